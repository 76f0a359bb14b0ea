"""The runs index: a pane listing the server's envs, with a link to each, in an env of its own
(`vizlab`, where `vizlab serve`'s URL opens). Never in `main`: that is the default env of every
raw Visdom program, which must get exactly the windows it gets on stock Visdom (issue 28).

The list comes from the server's own env list every time, never from one process's memory, so
several runs (and `vizlab serve`) writing it at once cannot lose each other's envs. Each row's
state and time ride in the pane itself (a JSON attribute); a run sets its own row under a lock
file (the writers on one machine take turns) and checks that its write stuck, writing again if
a writer elsewhere crossed it. Written off the training thread: once when a run's env appears
on the server, once at close.
"""

import hashlib
import html
import json
import math
import os
import re
import threading
import time
from contextlib import contextmanager

import requests

from vizlab.connection import ServerRefused

INDEX_ENV, INDEX_WIN = "vizlab", "index"
TITLE = "runs on this server"
ROWS = re.compile(r"data-vizlab-rows='([^']*)'")
APPEAR_WAIT = 60.0     # seconds a new run waits for its env to appear before writing anyway
TRIES = 3              # writes of one row when other writers cross it
LOCK_DIR = "~/.vizlab/locks"   # one lock file per server URL: this machine's writers take turns


def env_list(connection):
    """The server's envs (Visdom's /env_state), the index's own and `main` (always there, and
    where Visdom's page opens anyway) left out."""
    return [e for e in json.loads(connection.post("env_state", {})) if e not in (INDEX_ENV, "main")]


def read_rows(connection):
    """{env: {"state": ..., "time": unix seconds}} as the index pane holds them ({} if none)."""
    where = {"win": INDEX_WIN, "eid": INDEX_ENV}
    try:   # ask first: Visdom answers /win_data for a missing window with a logged traceback
        if connection.post("win_exists", where).strip() != "true":
            return {}
        pane = json.loads(connection.post("win_data", where))
    except (ServerRefused, ValueError):   # not ours, or gone meanwhile (Visdom answers 500)
        return {}
    found = ROWS.search(pane.get("content") or "") if isinstance(pane, dict) else None
    try:
        rows = json.loads(html.unescape(found.group(1))) if found else {}
    except ValueError:
        return {}
    if not isinstance(rows, dict):
        return {}
    return {e: r for e, r in rows.items()   # rows another tool mangled are dropped, not fatal
            if isinstance(r, dict) and type(r.get("time")) in (int, float) and math.isfinite(r["time"])}


def render(envs, rows):
    """The index pane's HTML: one row per env, the latest first, each linking to /env/NAME."""
    order = sorted(envs, key=lambda e: (-rows.get(e, {}).get("time", 0), e))
    cells = []
    for env in order:
        row = rows.get(env, {})
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(row["time"])) if "time" in row else "-"
        name = html.escape(env)
        cells.append(f"<tr><td style='padding:2px 8px'><a href='/env/{html.escape(env, quote=True)}'>"
                     f"{name}</a></td><td style='padding:2px 8px'>{html.escape(str(row.get('state', '-')))}"
                     f"</td><td style='padding:2px 8px'>{when}</td></tr>")
    data = html.escape(json.dumps({e: rows[e] for e in order if e in rows}, sort_keys=True), quote=True)
    body = "".join(cells) or "<tr><td colspan='3'>no runs yet</td></tr>"
    head = "".join(f"<th style='text-align:left;padding:2px 8px'>{h}</th>"
                   for h in ("env", "state", "last update"))
    return f"<div data-vizlab-rows='{data}'><table><tr>{head}</tr>{body}</table></div>"


def write(connection, envs, rows):
    message = {"data": [{"content": render(envs, rows), "type": "text"}], "win": INDEX_WIN,
               "eid": INDEX_ENV, "opts": {"title": TITLE, "width": 520,
                                          "height": min(900, 90 + 24 * max(1, len(envs)))}}
    connection.post("events", message)


@contextmanager
def machine_lock(url):
    """One writer of `url`'s index at a time on this machine (runs elsewhere still race: the
    check after each write catches most of those). No lock where none can be taken."""
    try:
        import fcntl
        folder = os.path.expanduser(LOCK_DIR)
        os.makedirs(folder, exist_ok=True)
        handle = open(os.path.join(folder, hashlib.sha256(url.encode()).hexdigest()[:16]), "a")
    except (ImportError, OSError):
        yield
        return
    with handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def refresh(connection, env=None, state=None, now=None):
    """Rebuild the index from the server's env list; with `env`, set its row to `state` now.
    Returns the envs listed."""
    with machine_lock(connection.url):
        return _refresh(connection, env, state, now)


def _refresh(connection, env, state, now):
    for _ in range(TRIES):
        envs = env_list(connection)
        if env is not None and env not in envs:
            envs.append(env)   # its first window may still be on its way
        rows = {e: r for e, r in read_rows(connection).items() if e in envs}
        if env is not None:
            rows[env] = {"state": state, "time": time.time() if now is None else now}
        write(connection, envs, rows)
        if env is None or read_rows(connection).get(env) == rows[env]:
            return envs
    return envs


def note(connection, env, state):
    """refresh() for `env`, errors swallowed: the index is a convenience, the caller goes on."""
    if env == INDEX_ENV:
        return
    try:
        refresh(connection, env, state)
    except (requests.RequestException, ServerRefused, ValueError):
        pass


class Announcer:
    """A run's row in the index, written by a daemon thread (never on the training thread)."""

    def __init__(self, connection, env, stop=None):
        self.connection, self.env = connection, env
        self.stop = stop or threading.Event()
        self.thread = None

    def started(self):
        """Write "running" once the env is on the server (or after APPEAR_WAIT seconds)."""
        self.thread = threading.Thread(target=self._run, args=("running", True),
                                       name="vizlab-landing", daemon=True)
        self.thread.start()

    def closed(self, timeout, state="closed"):
        """Write `state` ("closed": all is kept); waits at most `timeout` seconds for it (the
        process may be ending)."""
        self.stop.set()
        if self.thread is not None:
            self.thread.join(timeout)
        self.thread = threading.Thread(target=self._run, args=(state, False),
                                       name="vizlab-landing", daemon=True)
        try:
            self.thread.start()
        except RuntimeError:   # a close at exit: Python 3.12+ starts no thread at interpreter shutdown
            self.thread = None
            self.connection.timeout = (min(1.0, timeout), timeout)   # so this thread waits as long
            self._run(state, False)
            return
        self.thread.join(timeout)

    def _run(self, state, wait):
        deadline = time.monotonic() + APPEAR_WAIT
        try:
            while wait and self.env not in env_list(self.connection) and time.monotonic() < deadline:
                if self.stop.wait(1.0):
                    return                # closed meanwhile: the closing write says it all
        except (requests.RequestException, ServerRefused, ValueError):
            return                        # no server: the run goes on without its row
        note(self.connection, self.env, state)
