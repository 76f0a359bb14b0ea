"""`vizlab compare JOURNAL...`: several runs overlaid in one Visdom environment (what is drawn:
vizlab.comparison; seed bands: vizlab.run_groups).

Visdom's own compare view names traces by number (`0_train`), drops image panes and keeps the
first run's axis range. `--follow` keeps reading the journals as they grow, so a comparison of
live runs (and its bands) stays live. Lines that are not records are skipped and named (exit code
3 then; 0 when every line was read; 1 when a journal is missing, empty, holds no record at all,
or the server is missing; 2 for fewer than two journals or a bad option).
"""

import os
import sys
import time

from vizlab import journal as journal_mod
from vizlab import landing
from vizlab.address import add_address_options
from vizlab.comparison import Run, messages, name_runs, open_runs, read_more  # noqa: F401  (Run, name_runs: imported from here)
from vizlab.connection import Connection, ServerRefused
from vizlab.cli.replay import no_journal
from vizlab.errors import UserError
from vizlab.run_groups import BANDS


def compare(paths, server=None, port=None, env="compare", follow=False,
            interval=1.0, stop=None, runs=None, group_by="seed", band="std", images=True):
    """Draw the comparison of the journals `paths` in `env`; with follow, redraw as they grow
    until `stop` (a threading.Event) is set or Ctrl-C. Returns the number of windows drawn;
    `runs`, a list, receives the Run objects (their `skipped` lines). group_by, band, images:
    see vizlab.comparison.messages."""
    journal_mod.check_name("--env", env)
    for path in paths:   # a folder: say what to pass instead
        if os.path.isdir(path):
            raise UserError(no_journal(path, several=True))
    draw = {"group_by": group_by, "band": band, "images": images}
    runs = [] if runs is None else runs
    runs += open_runs(paths, final=not follow)
    for run in runs:
        _say_skipped(run, 0)
    connection = Connection.from_environment(server, port)
    sent = _send(connection, env, runs, draw)
    landing.note(connection, env, f"comparison of {len(runs)} runs")
    while follow and not (stop is not None and stop.is_set()):
        time.sleep(interval) if stop is None else stop.wait(interval)
        before = [len(run.skipped) for run in runs]
        if read_more(runs):
            sent = _send(connection, env, runs, draw)
        for run, seen in zip(runs, before):
            _say_skipped(run, seen)
    return sent


def _say_skipped(run, seen):
    """Name the lines skipped since `seen` of them were named."""
    if len(run.skipped) > seen:
        print(f"vizlab compare: {journal_mod.skipped_message(run.path, run.skipped[seen:])}; "
              "everything else is compared", file=sys.stderr, flush=True)


def _send(connection, env, runs, draw):
    batch = messages(runs, **draw)
    for message in batch:
        connection.post("events", dict(message, eid=env))
    return len(batch)


def add_parser(subparsers):
    p = subparsers.add_parser("compare", help="overlay several runs' journals in one Visdom environment")
    p.add_argument("journals", nargs="+", metavar="JOURNAL", help="JSONL journals written by VisdomLogger")
    p.add_argument("--env", default="compare", help="environment to draw into (default: %(default)s)")
    add_address_options(p)
    p.add_argument("--follow", action="store_true",
                   help="keep reading the journals as runs write them; Ctrl-C stops (default: off)")
    p.add_argument("--interval", type=float, default=1.0,
                   help="seconds between reads with --follow (default: %(default)s)")
    p.add_argument("--group-by", default="seed", metavar="KEY",
                   help="runs whose settings differ only in KEY are drawn as one mean line with a band "
                        "(default: %(default)s; 'none': every run its own line)")
    p.add_argument("--band", choices=BANDS, default="std",
                   help="the band around a group's mean: mean ± std, or min-max (default: %(default)s)")
    p.add_argument("--no-images", action="store_true",
                   help="leave the runs' images out (default: the last image of each run, in one pane "
                        "per image window)")
    p.set_defaults(func=_main)


def _main(args):
    import requests

    url = f"{args.server.rstrip('/')}:{args.port}"
    try:
        if args.follow:
            print(f"vizlab compare: following {len(args.journals)} journals into {url}/env/{args.env}; "
                  "Ctrl-C stops", flush=True)
        runs = []
        windows = compare(args.journals, args.server, args.port, args.env, args.follow, args.interval,
                          runs=runs, group_by=None if args.group_by == "none" else args.group_by,
                          band=args.band, images=not args.no_images)
    except ValueError as err:            # a bad --env name
        raise UserError(str(err)) from None
    except ServerRefused as err:
        raise UserError(str(err)) from None
    except requests.RequestException:
        raise UserError(f"no Visdom server answers at {url}; start one with `vizlab serve` "
                        "or pass --server/--port") from None
    print(f"vizlab compare: {len(args.journals)} runs -> {windows} windows at {url}/env/{args.env}")
    return 3 if any(run.skipped for run in runs) else 0
