"""PLACEHOLDER: `vizlab run`."""


def add_parser(subparsers):
    p = subparsers.add_parser("run", help="(not yet implemented)")
    p.set_defaults(func=lambda args: print("vizlab run: not yet implemented") or 2)
