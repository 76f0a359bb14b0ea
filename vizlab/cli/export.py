"""`vizlab export JOURNAL... [-o FILE] [--format csv|parquet]`: every raw point of the runs as a
table run,window,trace,x,y (vizlab.export). Exit codes: 0 all exported; 3 exported, but some
journal lines were skipped (stderr names them); 2 a missing journal, a bad option, no pyarrow."""

import os
import sys

from vizlab import export
from vizlab import journal as journal_mod
from vizlab.errors import UsageError

SKIPPED = 3


def add_parser(subparsers):
    p = subparsers.add_parser("export", help="every raw point of runs' journals as CSV or Parquet "
                                             "(columns run,window,trace,x,y)")
    p.add_argument("journals", nargs="+", metavar="JOURNAL", help="JSONL journals written by VisdomLogger")
    p.add_argument("-o", "--output", default=None,
                   help="file to write (default: CSV on stdout; Parquet needs -o)")
    p.add_argument("--format", choices=("csv", "parquet"), default=None,
                   help="default: parquet for an -o name ending .parquet, else csv")
    p.set_defaults(func=_main)


def _main(args):
    for path in args.journals:
        if not os.path.isfile(path):
            raise UsageError(f"no journal at {path}; pass the path the logger printed "
                             "(default: runs/<env>-<time>.jsonl)")
    fmt = args.format or ("parquet" if (args.output or "").endswith(".parquet") else "csv")
    skipped = []
    if fmt == "parquet":
        if not args.output:
            raise UsageError("--format parquet writes a file: add -o FILE.parquet")
        try:
            import pyarrow  # noqa: F401
        except ImportError:
            raise UsageError("--format parquet needs pyarrow: pip install pyarrow "
                             "(or 'vizlab[parquet]'), or export CSV") from None
        count = export.write_parquet(args.journals, args.output, skipped)
    elif args.output:
        with open(args.output, "w", newline="") as out:
            count = export.write_csv(args.journals, out, skipped)
    else:
        count = export.write_csv(args.journals, sys.stdout, skipped)
    if skipped:
        print(f"vizlab export: skipped {len(skipped)} lines that are not journal records: "
              f"{journal_mod.skipped_lines(skipped)}", file=sys.stderr)
    if args.output:
        print(f"vizlab export: {count} points of {len(args.journals)} journal"
              f"{'s' * (len(args.journals) > 1)} -> {args.output}")
    return SKIPPED if skipped else 0
