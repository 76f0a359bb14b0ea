"""The `vizlab` command: one module per sub-command; what a command prints, and its exit code.

Each module has `add_parser(subparsers)`, which sets `func(args) -> exit code`. None of them
imports torch at import time, so `vizlab --help` is quick; `vizlab run` imports a runner when run.
"""

import argparse
import sys

from vizlab.cli import assets, compare, export, replay, run, serve
from vizlab.errors import UserError

SUBCOMMANDS = [assets, serve, replay, compare, export, run]


def build_parser():
    parser = argparse.ArgumentParser(prog="vizlab", description="Live Visdom dashboards for PyTorch training.")
    parser.add_argument("--version", action="version", version=version_line())
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in SUBCOMMANDS:
        module.add_parser(subparsers)
    return parser


def version_line():
    """vizlab's version and the visdom it drives (from the installed metadata: no import)."""
    from importlib.metadata import PackageNotFoundError, version

    def of(name):
        try:
            return version(name)
        except PackageNotFoundError:
            return "not installed"
    return f"vizlab {of('vizlab')} (visdom {of('visdom')}, Python {sys.version.split()[0]})"


def main(argv=None):
    args = build_parser().parse_args(argv)
    try:
        return args.func(args) or 0
    except UserError as problem:  # the message says what to do; a traceback would bury it
        one_line = " ".join(part.strip() for part in str(problem).splitlines() if part.strip())
        print(f"vizlab {args.command}: {one_line}", file=sys.stderr)
        return problem.exit_code
    except KeyboardInterrupt:
        return 130
