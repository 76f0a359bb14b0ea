"""Server memory over create/append/delete cycles: stock Visdom vs the server vizlab starts.

Each cycle creates --windows line windows in a fresh env, grows each to --points points by
appends of --chunk points (the fast path for vizlab's server), then deletes the env. The server
process's RSS (psutil) is read after each delete. The figure that matters is the growth per
cycle after the first (a server that frees deleted windows levels off; one that keeps them grows
by about what a cycle created). Stock Visdom runs first, in the same run, as the baseline.
--patch FILE runs another fast_append.py in its place (e.g. an older one from git, to measure
before/after).
Run: .venv/bin/python benchmarks/server_soak.py [--cycles 4 --windows 20 --points 10000]
"""

import argparse
import os
import statistics
import sys
import tempfile
from pathlib import Path
from unittest import mock

import psutil
import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from vizlab.server import process as vserver  # noqa: E402

HTTP = requests.Session()


def cycle(url, env, windows, points, chunk):
    for w in range(windows):
        trace = {"x": [0], "y": [0.0], "name": "t", "type": "scatter", "mode": "lines"}
        HTTP.post(url + "/events", json={"data": [trace], "win": f"w{w}", "eid": env,
                                         "layout": {}, "opts": {}}).raise_for_status()
        for start in range(1, points, chunk):
            xs = list(range(start, min(start + chunk, points)))
            body = {"data": [{"x": xs, "y": [x * 0.001 for x in xs], "name": "t", "type": "scatter"}],
                    "win": f"w{w}", "eid": env, "name": "t", "append": True}
            HTTP.post(url + "/update", json=body).raise_for_status()
    # visdom deletes the env, then fails to remove its never-saved file (HTTP 500): check it is gone
    HTTP.post(url + "/delete_env", json={"eid": env})
    gone = HTTP.post(url + "/win_exists", json={"win": "w0", "eid": env}).text
    assert gone == "false", f"env {env} still has its windows after /delete_env"


def soak(patch, args):
    """RSS in MB after each cycle's delete, for a server with fast_append `patch` (None: stock)."""
    with tempfile.TemporaryDirectory() as tmp:
        stub = Path(tmp) / "stock.py"
        stub.write_text("def install(**options):\n    pass\n")
        with mock.patch.object(vserver, "FAST_APPEND", Path(patch) if patch else stub), \
                vserver.VisdomServer(env_path=tmp, log_path=os.path.join(tmp, "log")) as srv:
            process = psutil.Process(srv.process.pid)
            rss = [process.memory_info().rss / 2**20]
            for k in range(args.cycles):
                cycle(srv.url, f"soak{k}", args.windows, args.points, args.chunk)
                rss.append(process.memory_info().rss / 2**20)
                print(f"  cycle {k + 1}: {rss[-1]:.0f} MB", flush=True)
    return rss


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cycles", type=int, default=4)
    parser.add_argument("--windows", type=int, default=20)
    parser.add_argument("--points", type=int, default=10000)
    parser.add_argument("--chunk", type=int, default=1000, help="points per append")
    parser.add_argument("--patch", action="append", default=[],
                        help="another fast_append.py to run as well (repeatable)")
    args = parser.parse_args()
    runs = [("stock Visdom", None), ("vizlab", str(vserver.FAST_APPEND))]
    runs += [(f"vizlab with {p}", p) for p in args.patch]
    print(f"{args.cycles} cycles of {args.windows} windows x {args.points:,} points "
          f"(appends of {args.chunk}), env deleted after each; load average {os.getloadavg()}")
    rows = []
    for name, patch in runs:
        print(name, flush=True)
        rss = soak(patch, args)
        growth = [b - a for a, b in zip(rss[1:], rss[2:])]   # after the first cycle
        rows.append((name, rss, statistics.median(growth) if growth else float("nan")))
    print("\n| server | RSS at start, MB | after cycle 1 | after the last | growth per cycle after the first, MB (median) |")
    print("|---|---|---|---|---|")
    for name, rss, growth in rows:
        print(f"| {name} | {rss[0]:.0f} | {rss[1]:.0f} | {rss[-1]:.0f} | {growth:+.1f} |")


if __name__ == "__main__":
    main()
