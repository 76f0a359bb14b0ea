"""`vizlab export` speed in points/s (issue 30): a journal of --points points (one window, two traces,
written as the logger writes batches), exported to CSV and to Parquet (when pyarrow is installed),
median of --rounds, beside the floor in the same run: reading the journal alone (json.loads per line).
Run: .venv/bin/python benchmarks/export_speed.py [--points 1000000 --rounds 3]
"""

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from vizlab import export, journal as journal_mod  # noqa: E402

BATCH = 500   # x values per "points" record, about what the journal thread writes under load


def write_journal(path, points):
    steps = points // 2
    with open(path, "wb") as f:
        f.write(journal_mod.encode({"op": "start", "env": "bench", "max_points": 10_000, "time": 0}))
        for start in range(0, steps, BATCH):
            xs = list(range(start, min(steps, start + BATCH)))
            f.write(journal_mod.encode({"op": "points", "win": "loss", "x": xs,
                                        "y": {"train": [1 / (x + 1) for x in xs], "val": [x * 1e-3 for x in xs]}}))
    return steps * 2


def read_only(path):
    with open(path, "rb") as f:
        for line in f:
            json.loads(line)


def timed(fn, rounds):
    times = []
    for _ in range(rounds):
        began = time.perf_counter()
        fn()
        times.append(time.perf_counter() - began)
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "run.jsonl")
        n = write_journal(path, args.points)
        cases = {"read the journal only (json.loads per line)": lambda: read_only(path)}

        def to_csv():
            with open(os.path.join(tmp, "out.csv"), "w", newline="") as out:
                assert export.write_csv([path], out) == n
        cases["vizlab export (CSV)"] = to_csv
        try:
            import pyarrow  # noqa: F401
            cases["vizlab export --format parquet"] = lambda: export.write_parquet([path], os.path.join(tmp, "o.parquet"))
        except ImportError:
            print("pyarrow not installed: Parquet not measured")
        results = {name: timed(fn, args.rounds) for name, fn in cases.items()}
    print(f"\n{n:,} points, {args.rounds} rounds, medians; "
          f"load {os.getloadavg()[0]:.1f}")
    print("| case | seconds | points/s | x the read-only time |")
    print("|---|---|---|---|")
    floor = next(iter(results.values()))
    for name, seconds in results.items():
        print(f"| {name} | {seconds:.2f} | {n / seconds:,.0f} | {seconds / floor:.1f} |")


if __name__ == "__main__":
    main()
