"""Points a decimated trace shows at the end of a run (as at close and in `vizlab replay`), and how
they spread over the run: the window model alone, fed --lengths points of noise each.
Run: .venv/bin/python benchmarks/decimation.py [--lengths 1000000 10000000 --max-points 10000]
"""

import argparse
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from vizlab.windows import Trace  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lengths", type=int, nargs="+", default=[10**6, 10**7])
    parser.add_argument("--max-points", type=int, default=10_000)
    args = parser.parse_args()
    for n in args.lengths:
        trace, rng = Trace(args.max_points), random.Random(0)
        for start in range(0, n, 100_000):
            xs = list(range(start, min(n, start + 100_000)))
            trace.extend(xs, [rng.random() for _ in xs])
        trace.settle()
        xs, _ = trace.shown()
        tenths = [0] * 10
        for x in xs:
            tenths[min(9, x * 10 // n)] += 1
        print(f"{n:,} points, max_points {args.max_points:,}: {len(xs):,} shown, per tenth of the run "
              + ", ".join(f"{100 * c / len(xs):.1f} %" for c in tenths))


if __name__ == "__main__":
    main()
