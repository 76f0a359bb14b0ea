"""`vizlab replay JOURNAL`: rebuild a run's windows on any Visdom server from its JSONL journal.

The journal is streamed (bounded memory) through the same window model the live logger used
(same decimation, same messages), and each window is then sent whole, so the replayed windows
equal the live ones. A start record marked "resume" continues the run instead of resetting it.
Lines that are not records (garbage, binary, a torn last line, an unknown op, a missing key) are
skipped and named; everything else is rebuilt. Exit codes: 0 every line replayed; 3 replayed,
but some lines were skipped (stderr names them); 2 the file holds no usable record, or the
command line is wrong; 1 the server is missing or refused.
"""

import os
import sys

import requests

from vizlab import journal as journal_mod
from vizlab import landing, rebuild
from vizlab.address import add_address_options
from vizlab.connection import Connection, ServerRefused
from vizlab.errors import UsageError, UserError

SKIPPED = 3   # exit code: replayed, but some lines were skipped


def no_journal(path, several=False):
    """What to pass instead of `path`, which is no journal file; a folder's journals, by name."""
    if os.path.isdir(path):
        found = sorted((f for f in os.listdir(path) if f.endswith(".jsonl")),
                       key=lambda f: os.path.getmtime(os.path.join(path, f)))
        if not found:
            return f"{path} is a folder with no journal (*.jsonl) in it; pass the path the logger printed"
        if several:
            return (f"{path} is a folder; compare takes journals: vizlab compare "
                    f"{os.path.join(path, '*.jsonl')} ({len(found)} there)")
        return (f"{path} is a folder; replay takes one journal, e.g. the newest of its {len(found)}: "
                f"vizlab replay {os.path.join(path, found[-1])}")
    return f"no journal at {path}; pass the path the logger printed (default: runs/<env>-<time>.jsonl)"


def replay(path, server=None, port=None, env=None, skipped=None):
    """Send every window recorded in `path`; returns (events read, windows sent). Lines that are
    not journal records are skipped and, when `skipped` is a list, added to it as (line, why)."""
    connection = Connection.from_environment(server, port)
    events, sent, model, raw = 0, 0, None, []
    # A journal reused by a later run: the earlier run's windows were on the server as they
    # were when it ended, and the new run started its windows afresh.
    for model, calls in rebuild.runs(path, env, skipped, raw=raw):
        for endpoint, message in rebuild.requests_of(model):
            connection.post(endpoint, message)
        events, sent = events + calls, sent + len(model.windows)
    if raw:   # vizlab.Visdom's journal: Visdom's own requests (imported here: visdom imports torch)
        from vizlab.integrations.visdom_delivery import replay as replay_requests
        events += len(raw)
        sent += replay_requests([_in_env(r, env) if env else r for r in raw], connection)
    if model is not None:
        landing.note(connection, model.env, "replayed")
    return events, sent


def _in_env(record, env):
    """A vizlab.Visdom request moved to `env` (--env)."""
    msg = dict(record["msg"], eid=env) if "eid" in record["msg"] else record["msg"]
    endpoint = "env/" + env if record["endpoint"].startswith("env/") else record["endpoint"]
    return dict(record, endpoint=endpoint, msg=msg)


def add_parser(subparsers):
    p = subparsers.add_parser("replay", help="rebuild a run's windows on a Visdom server from its journal")
    p.add_argument("journal", help="JSONL journal written by VisdomLogger or vizlab.Visdom (its path "
                   "is printed at start)")
    add_address_options(p)
    p.add_argument("--env", default=None,
                   help="environment to rebuild into (default: the env recorded in the journal)")
    p.set_defaults(func=_main)


def _main(args):
    if args.env is not None:
        try:
            journal_mod.check_name("--env", args.env)
        except ValueError as err:
            raise UsageError(str(err)) from None
    if not os.path.isfile(args.journal):
        raise UsageError(no_journal(args.journal))
    try:
        skipped = []
        events, windows = replay(args.journal, args.server, args.port, args.env, skipped)
    except ValueError as err:   # not a vizlab journal: the argument names the wrong file
        raise UsageError(str(err)) from None
    except requests.RequestException:
        raise UserError(f"no Visdom server answers at {args.server}:{args.port}; "
                        "start one with `vizlab serve` or pass --server/--port") from None
    except ServerRefused as err:
        raise UserError(str(err)) from None
    if skipped:
        print(f"vizlab replay: {journal_mod.skipped_message(args.journal, skipped)}; "
              "everything else was replayed", file=sys.stderr)
    print(f"vizlab replay: {events} events -> {windows} windows at {args.server}:{args.port}")
    return SKIPPED if skipped else 0
