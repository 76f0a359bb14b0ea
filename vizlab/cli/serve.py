"""`vizlab serve`: start, reuse or stop a Visdom server; says where it is and how to open it."""

import argparse
import os
import signal
import sys

import requests

from vizlab import private_files
from vizlab.connection import ServerRefused
from vizlab.server import restore, runs_page
from vizlab.address import add_address_options
from vizlab.helptext import DefaultsOnce
from vizlab.server import assets
from vizlab.server.process import (DEFAULT_ENV_PATH, DEFAULT_HOST, DEFAULT_PORT, LOCAL_HOSTS, STATE_DIR,
                                   ServerError, VisdomServer, check_port, local_url, login_environment,
                                   not_ours, probe, start_detached, state_paths,
                                   stop_command, stop_detached, token_url, write_index, keep_index)


def describe(port, log_path=None, mode="private"):
    if mode == "private":
        lines = [f"Visdom is running at {local_url(port)}, for you only",
                 f"  open: {token_url(port)}  (once; a cookie keeps that browser in)"]
    else:
        lines = [f"Visdom is running at {local_url(port)}"
                 + (" (--open: anyone who reaches the port)" if mode == "open" else " (--login)")]
    lines.append(f"  runs: {local_url(port)}{runs_page.PATH}  (every run it knows: a table, sortable)")
    if log_path:
        lines.append(f"  log:  {log_path}")
        lines.append(f"  stop: {stop_command(port)}" + ("  (or `make stop`)" if port == DEFAULT_PORT else ""))
    return "\n".join(lines)



def add_parser(subparsers):
    p = subparsers.add_parser("serve", help="start a Visdom server (yours alone unless --open or --login)",
                              formatter_class=DefaultsOnce)
    p.add_argument("--host", default=DEFAULT_HOST,
                   help="address to listen on; 0.0.0.0 shares it with the network")
    add_address_options(p, server=False)
    p.add_argument("--env-path", default=DEFAULT_ENV_PATH, help="where Visdom saves environments")
    who = p.add_mutually_exclusive_group()
    who.add_argument("--login", action="store_true",
                     help="let in whoever logs in with VISDOM_USERNAME / VISDOM_PASSWORD")
    who.add_argument("--open", action="store_true",
                     help="plain Visdom: anyone who reaches the port may read and write "
                          "(default: only your uid, or the printed token URL)")
    p.add_argument("--detach", action="store_true",
                   help=f"run in the background (log and pid file in {STATE_DIR})")
    p.add_argument("--stop", action="store_true", help="stop the detached server on --port")
    p.add_argument("--logdir", action="append", default=[], metavar="DIR",
                   help="also restore the runs whose journals (*.jsonl) are under DIR (repeatable); "
                        "the runs logged to this port are restored without it")
    p.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for the server to answer")
    p.set_defaults(func=_serve)


def _restore(port, logdirs, seen, only_missing=False):
    """Every run this server has a journal for, rebuilt now (vizlab.server.restore)."""
    try:
        done = restore.restore(port, logdirs, only_missing, seen=seen)
    except (requests.RequestException, ServerRefused) as err:
        print(f"warning: could not restore the runs from their journals ({err}); "
              "`vizlab replay JOURNAL` rebuilds one", file=sys.stderr)
        return
    if done.runs or done.live or done.unreadable or done.failed:
        print("  " + done.line(), flush=True)


def _stop_on_signal(signum, frame):
    raise SystemExit(128 + signum)   # start() and `with server:` stop the child on it


def _serve(args):
    """A ServerError raised here reaches the user as one line (vizlab.cli.main prints it)."""
    check_port(args.port)
    port, url = args.port, local_url(args.port)
    if args.stop:
        if stop_detached(port):
            print(f"stopped the Visdom server on port {port}")
            return 0
        if probe(url):
            raise ServerError(f"the Visdom server at {url} was not started by `vizlab serve --detach`; "
                              "stop it where it was started")
        print(f"no Visdom server to stop on port {port}")
        return 0
    found = probe(url)
    if found == "visdom":
        print(f"Visdom is already running at {url}; reusing it")
        if args.logdir:   # the logdir's runs it lacks
            _restore(port, args.logdir, {}, only_missing=True)
        return 0
    if found == "refused":
        raise not_ours(port)
    mode = "login" if args.login else "open" if args.open else "private"
    if args.login:  # fail before starting anything; the password is never printed
        login_environment(os.environ)
    if args.host not in LOCAL_HOSTS:
        who = {"open": "anyone who reaches this machine can see and change the plots",
               "private": "other machines get in only with the token URL printed below",
               "login": "other machines get in with the login"}[mode]
        print(f"warning: --host {args.host}: Visdom listens on ALL network interfaces; {who}",
              file=sys.stderr)
    assets.ensure(progress=lambda message: print(message, file=sys.stderr, flush=True))   # or stop
    if args.logdir:   # the runs page (vizlab.server.runs_page) lists these folders' runs too
        os.environ[runs_page.LOGDIRS_ENV] = os.pathsep.join(os.path.abspath(d) for d in args.logdir)
    if args.detach:
        start_detached(port, args.host, args.env_path, args.login, args.timeout, mode=mode)
        print(describe(port, state_paths(port)[0], mode), flush=True)
        _restore(port, args.logdir, {})
        write_index(port)
        return 0
    log_path = state_paths(port)[0]
    private_files.private_dir(log_path.parent)
    server = VisdomServer(port, args.host, os.path.expanduser(args.env_path), args.login,
                          log_path=log_path, startup_timeout=args.timeout, mode=mode)
    previous = {n: signal.signal(n, _stop_on_signal) for n in (signal.SIGTERM, signal.SIGHUP)}
    try:
        with server:
            print(describe(port, mode=mode) + f"\n  (log: {log_path}; Ctrl-C stops it)", flush=True)
            seen = {}
            _restore(port, args.logdir, seen)
            keep_index(server, each_round=restore.catch_up(port, args.logdir, seen))
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    return 0
