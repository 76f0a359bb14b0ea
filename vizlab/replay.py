"""PLACEHOLDER: `vizlab replay`."""


def add_parser(subparsers):
    p = subparsers.add_parser("replay", help="(not yet implemented)")
    p.set_defaults(func=lambda args: print("vizlab replay: not yet implemented") or 2)
