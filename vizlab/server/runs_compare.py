"""POST /vizlab/runs/compare: the runs chosen in the runs table, compared with seed bands (issue 30).

The body names runs of the table by id (runs_page.Runs) and how to draw them:
{"ids": [...], "env": "compare", "group_by": "seed" | "none" | KEY, "band": "std" | "minmax",
"images": true}. The server reads their journals and draws the comparison into `env` with the
code `vizlab compare` runs (vizlab.comparison.open_runs and messages: the runs table, a mean line
and band per group of runs differing only in `group_by`), each window stored as its own /events
request would store it (batch_endpoint.run_item). The answer is {"env", "windows", "runs"}; a bad
choice is HTTP 400 with {"error": one line}.

Then the server follows the comparison as `vizlab compare --follow` does: every FOLLOW_EVERY
seconds it reads what the journals gained and redraws when any did, so the band of a run still
logging moves (a finished run's journal costs one read of its size). One comparison per env, a
new one replacing it; at most FOLLOWED, the oldest dropped. Journals are read on one worker
thread, never on the server's loop, so a large journal holds up nobody's page.

Loaded by file path into the server process (vizlab.server.process.server_command) before
runs_page.py, which registers the handler; vizlab's pure modules (numpy's window model) are
imported when the first comparison is asked for, runs_page having put vizlab's folder on sys.path.
"""

import asyncio
import json
from concurrent.futures import ThreadPoolExecutor

import tornado.web

if __package__:   # imported as vizlab.server.runs_compare
    from vizlab.server import batch_endpoint as batch
else:             # loaded by file path into the server (server_command loads batch_endpoint first)
    import vizlab_batch as batch

PATH = "/compare"     # after runs_page.PATH
FOLLOW_EVERY = 1.0    # seconds between reads of followed journals
FOLLOWED = 8          # comparisons followed at once
MAX_RUNS = 64         # runs in one comparison


def choice(body):
    """(ids, env, draw options) of a request body; ValueError with one line saying what is wrong."""
    from vizlab import journal, run_groups

    try:
        asked = json.loads(body or b"{}")
    except ValueError:
        raise ValueError("the body is not JSON") from None
    if not isinstance(asked, dict):
        raise ValueError('the body must be {"ids": [run id, ...], ...}')
    ids = asked.get("ids")
    if not (isinstance(ids, list) and all(isinstance(i, str) for i in ids)):
        raise ValueError('"ids" must be a list of run ids from the runs table')
    if len(ids) > MAX_RUNS:
        raise ValueError(f"{len(ids)} runs chosen; compare at most {MAX_RUNS} at once")
    env = asked.get("env") or "compare"
    journal.check_name("env", env)
    group_by = asked.get("group_by", "seed")
    if not isinstance(group_by, str) or not group_by:
        raise ValueError('"group_by" must be a setting\'s name, or "none"')
    band = asked.get("band", "std")
    if band not in run_groups.BANDS:
        raise ValueError(f"band {band!r}: use one of {', '.join(run_groups.BANDS)}")
    draw = {"group_by": None if group_by == "none" else group_by, "band": band,
            "images": bool(asked.get("images", True))}
    return ids, env, draw


def _open(paths, draw):
    """(runs, messages) of a new comparison; runs in the reader thread."""
    from vizlab import comparison

    runs = comparison.open_runs(paths, final=False)   # followed: a torn last line is waited for
    return runs, comparison.messages(runs, **draw)


def _more(runs, draw):
    """The comparison's messages again when its journals gained lines, else None (reader thread)."""
    from vizlab import comparison

    return comparison.messages(runs, **draw) if comparison.read_more(runs) else None


class Comparisons:
    """The comparisons drawn on this server, followed while the server runs."""

    def __init__(self, app, web):
        self.app, self.web = app, web
        self.followed = {}   # env: (runs, draw), oldest first
        self.reader = ThreadPoolExecutor(1, thread_name_prefix="vizlab-compare")
        self.following = False

    async def draw(self, paths, env, draw):
        """Draw the comparison of journals `paths` into env and follow it; the number of windows."""
        runs, messages = await asyncio.get_running_loop().run_in_executor(self.reader, _open, paths, draw)
        self.followed.pop(env, None)
        self.followed[env] = (runs, draw)
        while len(self.followed) > FOLLOWED:
            self.followed.pop(next(iter(self.followed)))
        if not self.following:
            self.following = True
            asyncio.get_running_loop().create_task(self.follow())
        return self.store(env, messages)

    def store(self, env, messages):
        """Each window as its /events request would store it; the number stored."""
        return sum(batch.run_item(self.web, self.app, "events", dict(m, eid=env))[0] == 200 for m in messages)

    async def follow(self):
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(FOLLOW_EVERY)
            for env, (runs, draw) in list(self.followed.items()):
                try:
                    messages = await loop.run_in_executor(self.reader, _more, runs, draw)
                except Exception:   # a journal gone or unreadable: stop following that one
                    messages = None
                    self.followed.pop(env, None)
                if messages and self.followed.get(env, (None,))[0] is runs:   # not replaced meanwhile
                    self.store(env, messages)


def handler(base, runs, web):
    """The request handler, on runs_page's `base` (refused(): Visdom's login; access.py checks
    it as every handler); `runs` maps the table's ids to journals (runs_page.Runs.path_of)."""
    comparisons = {}

    class CompareHandler(base):
        async def post(self):
            from vizlab.errors import UserError

            if self.refused():
                return
            self.set_header("Content-Type", "application/json")
            try:
                ids, env, draw = choice(self.request.body)
                paths = [runs.path_of(i) for i in ids]
                if None in paths:
                    raise ValueError("a chosen run is no longer known to this server; reload the runs page")
                if self.application not in comparisons:
                    comparisons[self.application] = Comparisons(self.application, web)
                windows = await comparisons[self.application].draw(paths, env, draw)
            except (ValueError, UserError) as err:   # a bad choice, a journal that holds no run
                return self.answer(400, str(err))
            except ImportError as err:   # a server Python without vizlab's needs (numpy, tqdm)
                return self.answer(501, f"this server's Python cannot read journals ({err}); "
                                        "run `vizlab compare JOURNAL...` instead")
            self.finish(json.dumps({"env": env, "windows": windows, "runs": len(paths)}))

        def answer(self, status, error):
            self.set_status(status)
            self.finish(json.dumps({"error": error}))

    return CompareHandler
