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
from vizlab import landing
from vizlab.address import add_address_options
from vizlab.connection import Connection, ServerRefused
from vizlab.errors import UsageError, UserError
from vizlab.journal import calls
from vizlab.smoothing import weight_or_off
from vizlab.windows import MAX_POINTS, Windows



SKIPPED = 3   # exit code: replayed, but some lines were skipped


def replay(path, server=None, port=None, env=None, skipped=None):
    """Send every window recorded in `path`; returns (events read, windows sent). Lines that are
    not journal records are skipped and, when `skipped` is a list, added to it as (line, why)."""
    skipped = [] if skipped is None else skipped
    connection = Connection.from_environment(server, port)
    model, events, sent, usable, raw = None, 0, 0, False, []
    for number, record in journal_mod.numbered(path, skipped):
        usable = usable or record["op"] != "start"
        if record["op"] == "visdom":   # vizlab.Visdom's journal: Visdom's own requests
            raw.append(_in_env(record, env) if env else record)
            events += 1
            continue
        if record["op"] == "start" and record.get("resume") and model is not None:
            continue   # resume_from=: the same run goes on, its windows continue
        if record["op"] == "start":
            # A journal reused by a later run: the earlier run's windows were on the server
            # as they were when it ended, and the new run started its windows afresh.
            sent += _send_all(connection, model)
            model = Windows(env or record.get("env", "main"), record.get("max_points", MAX_POINTS),
                            weight_or_off(record.get("smoothing", 0.0)))
            continue
        if model is None:
            model = Windows(env or "main", MAX_POINTS)
        try:
            model.apply(record)
        except (KeyError, TypeError, ValueError) as err:
            skipped.append((number, f"a {record['op']!r} record the window model refuses ({err!r:.60})"))
            continue
        events += calls(record)
    if skipped and not usable:
        raise ValueError(journal_mod.skipped_message(path, skipped)
                         + "; not a vizlab journal record at any line, nothing to replay")
    sent += _send_all(connection, model)
    if raw:   # imported here: visdom imports torch, which `vizlab replay --help` never needs
        from vizlab.integrations.visdom_delivery import replay as replay_requests
        sent += replay_requests(raw, connection)
    if model is not None:
        landing.note(connection, model.env, "replayed")
    return events, sent


def _in_env(record, env):
    """A vizlab.Visdom request moved to `env` (--env)."""
    msg = dict(record["msg"], eid=env) if "eid" in record["msg"] else record["msg"]
    endpoint = "env/" + env if record["endpoint"].startswith("env/") else record["endpoint"]
    return dict(record, endpoint=endpoint, msg=msg)


def _send_all(connection, model):
    if model is None:
        return 0
    for name in model.windows:
        endpoint, message, _ = model.request(name)
        connection.post(endpoint, message)
    return len(model.windows)


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
        raise UsageError(f"no journal at {args.journal}; pass the path the logger printed "
                         "(default: runs/<env>-<time>.jsonl)")
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
