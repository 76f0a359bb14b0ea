"""How far behind a window's live view gets with many windows: 1,000 windows, each logged twice a
second, one logger, one `vizlab serve` server.

Every window the sender sends is recorded (time, window, the newest x it carries), alone or in a
batch (POST /vizlab/batch); a point's lag is the time from its call to the first request carrying
it. Printed: the lag p50/p95/p99/max over all points, windows sent/s, requests/s, the final
flush, server CPU. The same run measures --before REV (that commit's whole tree, in a child
process: benchmarks/baseline.py) and the current tree, alternating; each with its own server.
Run: .venv/bin/python benchmarks/many_windows.py [--windows 1000 --seconds 45 --rounds 1 --before REV]
"""

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
import baseline  # noqa: E402
baseline.use_tree()
from vizlab import VisdomLogger, VisdomServer  # noqa: E402
from vizlab.connection import Connection  # noqa: E402

SENT = []            # (time, endpoint, window, newest x)
REQUESTS = []        # time of each request carrying windows (one window, or a batch of many)
_LOCK = threading.Lock()
_post = Connection.post
_post_batch = Connection.post_batch


def record(at, endpoint, message):
    if endpoint in ("update", "events"):
        xs = [x for d in message.get("data", []) for x in d.get("x", [])[-1:]]
        with _LOCK:
            SENT.append((at, endpoint, message["win"], max(xs) if xs else None))


def recording_post(self, endpoint, message):
    reply = _post(self, endpoint, message)
    record(time.monotonic(), endpoint, message)
    if endpoint in ("update", "events"):
        REQUESTS.append(time.monotonic())
    return reply


def recording_batch(self, items):
    replies = _post_batch(self, items)
    now = time.monotonic()
    for (endpoint, message), (status, _) in zip(items, replies):
        if status == 200:
            record(now, endpoint, message)
    REQUESTS.append(now)
    return replies


def lags(logged_at, windows, end):
    """Per point: seconds from its call to the first request carrying it."""
    by_window = {}
    for t, _, win, x in SENT:
        if x is not None:
            by_window.setdefault(win, []).append((t, x))
    out = []
    for w in range(windows):
        sends, i = by_window.get(f"w{w}", []), 0
        for r, t_logged in enumerate(logged_at):
            while i < len(sends) and sends[i][1] < r:
                i += 1
            out.append((sends[i][0] if i < len(sends) else end) - t_logged)
    return out


def one_run(port, windows, seconds, server_pid):
    SENT.clear()
    REQUESTS.clear()
    server = psutil.Process(server_pid)
    server.cpu_percent(None)
    env = f"many_{time.monotonic_ns()}"
    log = VisdomLogger(env=env, port=port, journal=False)
    logged_at, start = [], time.monotonic()
    for r in range(int(seconds * 2)):
        for w in range(windows):
            log.scalar(f"w{w}", r, float(r % 7))
        logged_at.append(time.monotonic())
        time.sleep(max(0.0, start + (r + 1) * 0.5 - time.monotonic()))
    t0 = time.monotonic()
    flushed = log.flush(timeout=300)
    end = time.monotonic()
    flush_s = end - t0
    cpu = server.cpu_percent(None)
    log.close()
    point_lags = lags(logged_at, windows, end)
    windows_per_s = len([s for s in SENT if s[0] <= t0]) / (t0 - start)
    requests_per_s = len([t for t in REQUESTS if t <= t0]) / (t0 - start)
    q = statistics.quantiles(point_lags, n=100)
    return {"p50": q[49], "p95": q[94], "p99": q[98], "max": max(point_lags),
            "windows_per_s": windows_per_s, "requests_per_s": requests_per_s, "flush_s": flush_s,
            "flushed": flushed, "cpu": cpu}


def measure(args):
    """The child: one run of this process's tree, against a server of that tree."""
    Connection.post, Connection.post_batch = recording_post, recording_batch
    with tempfile.TemporaryDirectory() as tmp, VisdomServer(env_path=tmp, startup_timeout=180) as srv:
        baseline.emit(one_run(srv.port, args.windows, args.seconds, srv.process.pid))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--windows", type=int, default=1000, help="windows, each logged twice a second")
    parser.add_argument("--seconds", type=float, default=45, help="logging time of each run")
    parser.add_argument("--before", default=baseline.BEFORE, help="the commit to compare with (its whole tree)")
    parser.add_argument("--rounds", type=int, default=1, help="before/after pairs, alternating")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return measure(args)
    print(f"load average before: {os.getloadavg()}")
    results = []
    for _ in range(args.rounds):
        for which, rev in (("before", args.before), ("after", None)):
            result = baseline.child(rev, __file__, ["--child", "--windows", str(args.windows),
                                                    "--seconds", str(args.seconds)])
            result["label"] = f"{which} ({baseline.describe(rev)})"
            results.append(result)
            print(result, flush=True)
    print(f"\n{args.windows} windows x 2 points/s for {args.seconds:.0f} s each run, medians over "
          f"{args.rounds} run(s)")
    print("| code | lag p50 | lag p95 | lag p99 | lag max | windows sent/s | requests/s | final flush "
          "| server CPU |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    keys = ("p50", "p95", "p99", "max", "windows_per_s", "requests_per_s", "flush_s", "cpu")
    for which in ("before", "after"):
        rows = [r for r in results if r["label"].startswith(which)]
        med = {k: statistics.median(r[k] for r in rows) for k in keys}
        print(f"| {rows[0]['label']} | {med['p50']:.2f} s | {med['p95']:.2f} s | {med['p99']:.2f} s | "
              f"{med['max']:.2f} s | {med['windows_per_s']:.0f} | {med['requests_per_s']:.0f} | "
              f"{med['flush_s']:.1f} s | {med['cpu']:.0f} % |")
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
