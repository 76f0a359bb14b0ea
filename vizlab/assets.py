"""PLACEHOLDER: `vizlab assets`."""


def add_parser(subparsers):
    p = subparsers.add_parser("assets", help="(not yet implemented)")
    p.set_defaults(func=lambda args: print("vizlab assets: not yet implemented") or 2)
