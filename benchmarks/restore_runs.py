"""How long `vizlab serve` takes to restore N journaled runs at start (issue 30), N = 10, 100, 1,000.

Each run is small: a settings pane, a status pane and two line windows (3 traces, 200 points each),
written as the logger writes its journal. Timed: vizlab.server.restore.restore() onto a fresh
server (the registry/logdir scan, the rebuild, the batched sends, the index), median of --rounds,
beside the baseline in the same run: one `vizlab replay` per run (vizlab.cli.replay.replay, one
request per window and an index write per run), for the sizes up to --replay-max. Also timed: the
runs table's first GET /vizlab/runs.json (every journal read) and a second (nothing new to read).
Run: .venv/bin/python benchmarks/restore_runs.py [--sizes 10 100 1000 --rounds 3]
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from vizlab import journal as journal_mod  # noqa: E402
from vizlab.cli.replay import replay  # noqa: E402
from vizlab.server import restore  # noqa: E402
from vizlab.server.process import VisdomServer  # noqa: E402
from vizlab.server.runs_page import LOGDIRS_ENV, PATH  # noqa: E402

POINTS = 200


def write_runs(folder, n):
    for i in range(n):
        env = f"run{i:04d}"
        xs = list(range(POINTS))
        records = [
            {"op": "start", "env": env, "max_points": 10_000, "time": time.time()},
            {"op": "settings", "win": "settings", "values": {"lr": [0.1, 0.01][i % 2], "seed": i % 3}},
            {"op": "status", "win": "status", "state": "running", "time": time.time(), "step": 0},
            {"op": "points", "win": "loss", "x": xs,
             "y": {"train": [1 / (x + 1) for x in xs], "val": [1.1 / (x + 1) for x in xs]}},
            {"op": "points", "win": "accuracy", "x": xs, "y": {"val": [x / POINTS for x in xs]}},
            {"op": "status", "win": "status", "state": "finished", "time": time.time(), "step": POINTS},
        ]
        with open(os.path.join(folder, env + ".jsonl"), "wb") as f:
            f.write(b"".join(journal_mod.encode(r) for r in records))


def timed(fn):
    began = time.perf_counter()
    fn()
    return time.perf_counter() - began


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 100, 1000])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--replay-max", type=int, default=100, help="largest N the baseline runs for")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["HOME"] = tmp   # the registry of this port stays empty: the runs come from --logdir
        for n in args.sizes:
            folder = os.path.join(tmp, f"runs{n}")
            os.makedirs(folder)
            write_runs(folder, n)
            ours, theirs, first, again = [], [], [], []
            os.environ[LOGDIRS_ENV] = folder   # the runs page lists the logdir's runs
            for r in range(args.rounds):
                with VisdomServer(env_path=os.path.join(tmp, f"env{n}-{r}")) as srv:
                    done = []
                    ours.append(timed(lambda: done.append(restore.restore(srv.port, [folder]))))
                    assert done[0].runs == n, done[0].line()
                    table = []
                    first.append(timed(lambda: table.append(requests.get(srv.url + PATH + ".json", timeout=600).json())))
                    assert len(table[0]["rows"]) == n
                    again.append(timed(lambda: requests.get(srv.url + PATH + ".json", timeout=600).json()))
                if n <= args.replay_max:
                    with VisdomServer(env_path=os.path.join(tmp, f"envr{n}-{r}")) as srv:
                        paths = sorted(Path(folder).glob("*.jsonl"))
                        theirs.append(timed(lambda: [replay(str(p), port=srv.port, server="127.0.0.1")
                                                     for p in paths]))
            rows.append((n, statistics.median(ours), statistics.median(theirs) if theirs else None,
                         statistics.median(first), statistics.median(again)))
            print(f"  N={n}: restore {[round(t, 2) for t in ours]} s; replay each {[round(t, 2) for t in theirs]} s",
                  flush=True)
    print(f"\nrestore at start, {args.rounds} rounds, medians; load {os.getloadavg()[0]:.1f}")
    print("| runs | restore s | ms per run | one `vizlab replay` per run, s | ratio | runs.json first / again, s |")
    print("|---|---|---|---|---|---|")
    for n, ours, theirs, first, again in rows:
        base = f"{theirs:.2f} | {theirs / ours:.1f}x" if theirs else "not run | -"
        print(f"| {n} | {ours:.2f} | {1000 * ours / n:.1f} | {base} | {first:.2f} / {again:.2f} |")


if __name__ == "__main__":
    main()
