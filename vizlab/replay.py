"""`vizlab replay JOURNAL`: rebuild a run's windows on any Visdom server from its JSONL journal.

The journal is streamed (bounded memory) through the same window model the live logger used
(same decimation, same messages), and each window is then sent whole, so the replayed windows
equal the live ones. A start record marked "resume" continues the run instead of resetting it.
"""

import os

import requests

from vizlab import journal as journal_mod
from vizlab.connection import Connection, ServerRefused
from vizlab.errors import UsageError, UserError
from vizlab.windows import Windows

DEFAULT_MAX_POINTS = 10_000


def replay(path, server="http://127.0.0.1", port=8097, env=None):
    """Send every window recorded in `path`; returns (events read, windows sent)."""
    connection = Connection.from_environment(server, port)
    model, events, sent = None, 0, 0
    for number, record in enumerate(journal_mod.read(path, expand=False), 1):
        if not isinstance(record, dict) or "op" not in record:
            raise ValueError(f"{path}: record {number} is not a vizlab journal record")
        if record["op"] == "start" and record.get("resume") and model is not None:
            continue   # resume_from=: the same run goes on, its windows continue
        if record["op"] == "start":
            # A journal reused by a later run: the earlier run's windows were on the server
            # as they were when it ended, and the new run started its windows afresh.
            sent += _send_all(connection, model)
            model = Windows(env or record["env"], record.get("max_points", DEFAULT_MAX_POINTS))
            continue
        if model is None:
            model = Windows(env or "main", DEFAULT_MAX_POINTS)
        try:
            model.apply(record)
        except (KeyError, TypeError, ValueError) as err:
            raise ValueError(f"{path}: record {number} ({record.get('op')!r}) is malformed: {err!r}") from None
        events += len(record["x"]) if record["op"] == "points" else 1
    sent += _send_all(connection, model)
    return events, sent


def _send_all(connection, model):
    if model is None:
        return 0
    for name in model.windows:
        endpoint, message, _ = model.request(name)
        connection.post(endpoint, message)
    return len(model.windows)


def add_parser(subparsers):
    p = subparsers.add_parser("replay", help="rebuild a run's windows on a Visdom server from its journal")
    p.add_argument("journal", help="JSONL journal written by VisdomLogger (its path is printed at start)")
    p.add_argument("--server", default="http://127.0.0.1", help="Visdom server URL (default: %(default)s)")
    p.add_argument("--port", type=int, default=8097, help="Visdom server port (default: %(default)s)")
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
        events, windows = replay(args.journal, args.server, args.port, args.env)
    except ValueError as err:   # not a vizlab journal: the argument names the wrong file
        raise UsageError(str(err)) from None
    except requests.RequestException:
        raise UserError(f"no Visdom server answers at {args.server}:{args.port}; "
                        "start one with `vizlab serve` or pass --server/--port") from None
    except ServerRefused as err:
        raise UserError(str(err)) from None
    print(f"vizlab replay: {events} events -> {windows} windows at {args.server}:{args.port}")
    return 0
