"""The `vizlab` command: one sub-command per module, each registering itself."""

import argparse
import sys

# Each module has `add_parser(subparsers)`, which sets `func(args) -> exit code`.
SUBCOMMAND_MODULES = ["assets", "server", "replay", "compare", "run"]


def build_parser():
    parser = argparse.ArgumentParser(
        prog="vizlab", description="Live Visdom dashboards for PyTorch training."
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    import importlib

    for name in SUBCOMMAND_MODULES:
        importlib.import_module(f"vizlab.{name}").add_parser(subparsers)
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    from vizlab.errors import UserError

    try:
        return args.func(args) or 0
    except UserError as problem:  # the message says what to do; a traceback would bury it
        one_line = " ".join(part.strip() for part in str(problem).splitlines() if part.strip())
        print(f"vizlab {args.command}: {one_line}", file=sys.stderr)
        return problem.exit_code
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
