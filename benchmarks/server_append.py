"""Server cost of one 100-point line append, stock Visdom vs the servers vizlab starts (fast appends).

For each window size, both servers get a fresh one-trace window of that many points, one untimed
append, then --repeats timed appends of 100 points. Two figures, medians: the server's own time
per /update (tornado's access log: from the request's arrival to the answer) and the round trip
on loopback (no browser connected), next to that of /win_exists (HTTP alone).
Run: .venv/bin/python benchmarks/server_append.py   (many runs at once: benchmarks/server_fanin.py)
"""

import argparse
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path
from unittest import mock

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from vizlab.server import process as vserver  # noqa: E402


HTTP = requests.Session()  # keep-alive, as the logger does
UPDATE_MS = re.compile(r"INFO:tornado\.access:200 POST /update \(.*?\) ([\d.]+)ms")


def make_window(url, env, n):
    trace = {"x": list(range(n)), "y": [i * 0.001 for i in range(n)], "name": "t",
             "type": "scatter", "mode": "lines"}
    HTTP.post(url + "/events", json={"data": [trace], "win": f"w{n}", "eid": env,
                                         "layout": {}, "opts": {}}).raise_for_status()


def append_ms(url, env, n, start):
    xs = list(range(start, start + 100))
    body = {"data": [{"x": xs, "y": [x * 0.001 for x in xs], "name": "t", "type": "scatter"}],
            "win": f"w{n}", "eid": env, "name": "t", "append": True}
    t0 = time.perf_counter()
    HTTP.post(url + "/update", json=body).raise_for_status()
    return (time.perf_counter() - t0) * 1000


def baseline_ms(url, env, n):
    """Round trip of a request that costs the server next to nothing: HTTP's own share."""
    t0 = time.perf_counter()
    HTTP.post(url + "/win_exists", json={"win": f"w{n}", "eid": env}).raise_for_status()
    return (time.perf_counter() - t0) * 1000


def measure(port, sizes, repeats):
    url, medians = vserver.local_url(port), {}
    for n in sizes:
        make_window(url, "bench", n)
        append_ms(url, "bench", n, n)  # untimed: the fast path caches the window's text here
        times = [append_ms(url, "bench", n, n + 100 * (r + 1)) for r in range(repeats)]
        medians[n] = statistics.median(times)
    medians["http"] = statistics.median(baseline_ms(url, "bench", n) for _ in range(repeats))
    return medians


def server_ms(log_path, sizes, repeats):
    """The server's own ms per timed /update, from its access log: {size: median}."""
    times = [float(ms) for ms in UPDATE_MS.findall(Path(log_path).read_text(errors="replace"))]
    per_size = 1 + repeats   # one untimed append, then the timed ones
    return {n: statistics.median(times[i * per_size + 1:(i + 1) * per_size]) for i, n in enumerate(sizes)}


def run_server(python, stock, sizes, repeats):
    with tempfile.TemporaryDirectory() as tmp:
        patched, log_path = vserver.FAST_APPEND, os.path.join(tmp, "server.log")
        if stock:  # a module whose install() does nothing: visdom's own server
            patched = Path(tmp) / "stock.py"
            patched.write_text("def install():\n    pass\n")
        with mock.patch.object(vserver, "FAST_APPEND", patched), \
                vserver.VisdomServer(python=python, env_path=tmp, log_path=log_path) as srv:
            round_trips = measure(srv.port, sizes, repeats)
        return round_trips, server_ms(log_path, sizes, repeats)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 50000],
                        help="points in the window before the appends")
    parser.add_argument("--repeats", type=int, default=11, help="timed appends per size")
    parser.add_argument("--python", default=None,
                        help="interpreter that runs both servers (default: this one), "
                             "e.g. .venv-visdom03/bin/python for visdom 0.3")
    args = parser.parse_args()
    print(f"load average before: {os.getloadavg()}")
    stock, stock_server = run_server(args.python, True, args.sizes, args.repeats)
    fast, fast_server = run_server(args.python, False, args.sizes, args.repeats)
    print("| window points | server ms, stock | server ms, vizlab | ratio | round trip ms, stock | "
          "round trip ms, vizlab | ratio |")
    print("|---|---|---|---|---|---|---|")
    for n in args.sizes:
        print(f"| {n:,} | {stock_server[n]:.2f} | {fast_server[n]:.2f} | {stock_server[n] / fast_server[n]:.0f}x | "
              f"{stock[n]:.2f} | {fast[n]:.2f} | {stock[n] / fast[n]:.0f}x |")
    print(f"| /win_exists (HTTP alone) | | | | {stock['http']:.2f} | {fast['http']:.2f} | |")
    print(f"load average after: {os.getloadavg()}  (medians of {args.repeats} appends of 100 points)")


if __name__ == "__main__":
    main()
