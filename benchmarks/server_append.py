"""Server cost of one 100-point line append, stock Visdom vs the servers vizlab starts (fast appends).

For each window size, both servers get a fresh one-trace window of that many points, one untimed
append, then --repeats timed appends of 100 points; the figure is the median round trip of the
/update POST on loopback (no browser connected), next to that of /win_exists (HTTP alone). Run: .venv/bin/python benchmarks/server_append.py
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from unittest import mock

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from vizlab import server as vserver  # noqa: E402


HTTP = requests.Session()  # keep-alive, as the logger does


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


def run_server(python, stock, sizes, repeats):
    with tempfile.TemporaryDirectory() as tmp:
        patched = vserver.FAST_APPEND
        if stock:  # a module whose install() does nothing: visdom's own server
            patched = Path(tmp) / "stock.py"
            patched.write_text("def install():\n    pass\n")
        with mock.patch.object(vserver, "FAST_APPEND", patched), \
                vserver.VisdomServer(python=python, env_path=tmp) as srv:
            return measure(srv.port, sizes, repeats)


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
    stock = run_server(args.python, True, args.sizes, args.repeats)
    fast = run_server(args.python, False, args.sizes, args.repeats)
    print(f"{'window points':>14} {'stock ms':>10} {'vizlab ms':>10} {'ratio':>8}")
    for n in args.sizes:
        print(f"{n:>14,} {stock[n]:>10.2f} {fast[n]:>10.2f} {stock[n] / fast[n]:>7.0f}x")
    print(f"{'/win_exists':>14} {stock['http']:>10.2f} {fast['http']:>10.2f}   (HTTP round trip alone)")
    print(f"load average after: {os.getloadavg()}  (medians of {args.repeats} appends of 100 points)")


if __name__ == "__main__":
    main()
