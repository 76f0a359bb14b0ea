"""Many runs on one server: points/s delivered, flush latency, server CPU and request cost.

Each run is its own process with a VisdomLogger, logging like a training loop: every step the
training loss and the learning rate, every 10th step a validation loss and an accuracy (3
windows, 4 traces), paced to --rate points/s in all. A thread in each run calls flush() every
second and times it: how long until everything logged so far is on the server. All runs load
torch first and start logging together. The server's own time per request comes from its
access log (tornado.access: handler time in ms); its CPU from psutil. Run:

    .venv/bin/python benchmarks/server_fanin.py                 # 1, 4, 16, 32, 64 runs; 16 on stock too
    .venv/bin/python benchmarks/server_fanin.py --soak 600      # 16 runs for 10 min, figures per minute
    .venv/bin/python benchmarks/server_fanin.py --before REV ...   # the runs log with that commit's tree
"""

import argparse
import json
import math
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from unittest import mock

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
import baseline  # noqa: E402
baseline.use_tree()   # the runs (children) of --before import that commit's tree
from vizlab.server import process as vserver  # noqa: E402

ACCESS = re.compile(r"INFO:tornado\.access:\d+ POST /(update|events) \(.*?\) ([\d.]+)ms")


# ----------------------------------------------------------------------------- one run (a child)

def run_child(port, env, seconds, rate, journal, loggers=1):
    """`loggers` runs in this process (a thread each), each its own VisdomLogger and env."""
    from vizlab import VisdomLogger
    logs = [VisdomLogger(env=f"{env}_{j}", port=port, journal=f"{journal}_{j}.jsonl") for j in range(loggers)]
    print("ready", flush=True)
    sys.stdin.readline()               # the parent's go: every run starts together
    results = [None] * loggers
    threads = [threading.Thread(target=one_logger, args=(log, seconds, rate, results, j))
               for j, log in enumerate(logs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(json.dumps(results), flush=True)


def one_logger(log, seconds, rate, results, j):
    latencies, stop = [], threading.Event()

    def measure():   # flush() from a second thread: the loop keeps logging meanwhile
        while not stop.wait(1.0):
            started = time.perf_counter()
            if log.flush(timeout=60):
                latencies.append((time.time(), time.perf_counter() - started))

    watcher = threading.Thread(target=measure, daemon=True)
    watcher.start()
    steps_per_s, points, step = rate / 2.2, 0, 0  # 2 points a step, 2 more every 10th step
    started = time.perf_counter()
    while (elapsed := time.perf_counter() - started) < seconds:
        due = int(elapsed * steps_per_s)
        while step < due:
            step += 1
            log.scalar("loss", step, 1.0 / step, trace="train")
            log.scalar("lr", step, 0.1 * (1 - step / 1e7), trace="lr")
            points += 2
            if step % 10 == 0:
                log.scalar("loss", step, 1.2 / step, trace="val")
                log.scalar("accuracy", step, 90.0 + step % 7, trace="val")
                points += 2
        time.sleep(0.005)
    stop.set()
    watcher.join()
    final = time.perf_counter()
    delivered = log.flush(timeout=120)
    done = time.perf_counter()
    requests = dict(getattr(log._writer.model, "requests", {}))
    log.close()
    results[j] = {"points": points, "seconds": done - started, "delivered": delivered,
                  "final_flush_s": done - final, "latencies": latencies, "requests": requests}


# ----------------------------------------------------------------------------- the parent

def p99(values):
    """Nearest-rank 99th percentile of sorted values (nan when none)."""
    return values[max(0, math.ceil(0.99 * len(values)) - 1)] if values else float("nan")


def server_times(log_path, since):
    """Server-side ms per /update and /events request logged after byte `since`."""
    with open(log_path, "rb") as f:
        f.seek(since)
        text = f.read().decode(errors="replace")
    times = {"update": [], "events": []}
    for kind, ms in ACCESS.findall(text):
        times[kind].append(float(ms))
    return times


def start_runs(n, port, seconds, rate, tmp, per_process=1):
    """n runs in ceil(n / per_process) processes (each process loads torch once)."""
    counts = [min(per_process, n - i) for i in range(0, n, per_process)]
    procs = [subprocess.Popen([sys.executable, __file__, "--child", str(port), f"fanin{i}", str(seconds),
                               str(rate), os.path.join(tmp, f"run{i}"), str(k)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                              stderr=open(os.path.join(tmp, f"run{i}.err"), "w")) for i, k in enumerate(counts)]
    for p in procs:
        if p.stdout.readline().strip() != "ready":
            raise RuntimeError(f"a run failed to start: {Path(tmp, f'run{procs.index(p)}.err').read_text()}")
    return procs


def level(srv, log_path, n, seconds, rate, tmp, per_process=1):
    """n runs for `seconds` on server `srv`: one row of figures."""
    procs = start_runs(n, srv.port, seconds, rate, tmp, per_process)
    server = psutil.Process(srv.process.pid)
    since, cpu0, t0 = os.path.getsize(log_path), server.cpu_times(), time.perf_counter()
    psutil.cpu_percent(None)
    loads, stop = [], threading.Event()
    sampler = threading.Thread(target=lambda: [loads.append(os.getloadavg()[0]) for _ in iter(
        lambda: stop.wait(5.0), True)], daemon=True)
    sampler.start()
    for p in procs:
        p.stdin.write("go\n")
        p.stdin.flush()
    results = [r for p in procs for r in json.loads(p.stdout.readlines()[-1])]
    wall, cpu1, machine = time.perf_counter() - t0, server.cpu_times(), psutil.cpu_percent(None)
    stop.set()
    for p in procs:
        p.wait()
    flushes = sorted(s for r in results for _, s in r["latencies"])
    times = server_times(log_path, since)
    return {"runs": n, "offered": sum(r["points"] for r in results) / seconds,
            "delivered": sum(r["points"] for r in results if r["delivered"]) / max(r["seconds"] for r in results),
            "all_delivered": all(r["delivered"] for r in results),
            "flush_p50": statistics.median(flushes) if flushes else float("nan"),
            "flush_max": max(flushes, default=float("nan")),
            "flush_p99": p99(flushes),
            "machine_cpu": machine, "load": statistics.median(loads) if loads else os.getloadavg()[0],
            "whole": sum(r["requests"].get("whole", 0) for r in results),
            "append": sum(r["requests"].get("append", 0) for r in results),
            "final_flush_max": max(r["final_flush_s"] for r in results),
            "server_cpu": 100 * (cpu1.user + cpu1.system - cpu0.user - cpu0.system) / wall,
            "update_p50": statistics.median(times["update"]) if times["update"] else float("nan"),
            "update_max": max(times["update"], default=float("nan")),
            "events_p50": statistics.median(times["events"]) if times["events"] else float("nan"),
            "requests": len(times["update"]) + len(times["events"]), "results": results}


def serve(stock, tmp, python=None):
    """A server vizlab starts (fast appends) or, with stock, visdom's own append path."""
    patched = vserver.FAST_APPEND
    if stock:   # a module whose install() does nothing: visdom's own server
        patched = Path(tmp) / "stock.py"
        patched.write_text("def install():\n    pass\n")
    log_path = os.path.join(tmp, "stock.log" if stock else "vizlab.log")
    with mock.patch.object(vserver, "FAST_APPEND", patched), \
            mock.patch.object(vserver, "BATCH", patched if stock else vserver.BATCH):
        srv = vserver.VisdomServer(python=python, env_path=tmp, log_path=log_path, startup_timeout=180).start()
    return srv, log_path


def print_row(name, row):
    print(f"| {name} | {row['runs']} | {row['offered']:,.0f} | {row['delivered']:,.0f} | "
          f"{row['flush_p50']:.3f} / {row['flush_p99']:.3f} / {row['flush_max']:.3f} | {row['server_cpu']:.0f} % | "
          f"{row['machine_cpu']:.0f} % | {row['load']:.1f} | "
          f"{row['update_p50']:.2f} / {row['update_max']:.1f} | {row['events_p50']:.2f} | "
          f"{row['whole']} / {row['append']} | {'yes' if row['all_delivered'] else 'NO'} |", flush=True)


def print_soak(row, log_path):
    """The flush latency per minute and the server's /update cost per tenth of the run: growth shows."""
    start = min(t for r in row["results"] for t, _ in r["latencies"][:1])
    by_minute = {}
    for r in row["results"]:
        for t, s in r["latencies"]:
            by_minute.setdefault(int((t - start) // 60), []).append(s)
    print("\n| minute | flush p50 / p99 / max (s) |\n|---|---|")
    for minute, values in sorted(by_minute.items()):
        values.sort()
        print(f"| {minute + 1} | {statistics.median(values):.3f} / {p99(values):.3f}"
              f" / {values[-1]:.3f} |")
    times = server_times(log_path, 0)["update"]
    tenths = [times[i * len(times) // 10:(i + 1) * len(times) // 10] for i in range(10)]
    print("server ms per /update, median of each tenth of the run: "
          + ", ".join(f"{statistics.median(t):.2f}" for t in tenths if t))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--runs", type=int, nargs="+", default=[1, 4, 16, 32, 64], help="concurrent runs per level")
    parser.add_argument("--per-process", type=int, default=4,
                        help="runs per client process (a thread each): 64 processes with torch would need ~19 GB")
    parser.add_argument("--soak-runs", type=int, default=16, help="runs in the soak")
    parser.add_argument("--before", default=None,
                        help="the runs log with this commit's whole tree (benchmarks/baseline.py); the server is this tree's")
    parser.add_argument("--seconds", type=float, default=10.0, help="logging time per level")
    parser.add_argument("--rate", type=float, default=1500.0, help="points/s each run logs (4 traces, 3 windows)")
    parser.add_argument("--stock-runs", type=int, default=16, help="the level also run on the stock server (0: none)")
    parser.add_argument("--soak", type=float, default=0.0, help="instead: 16 runs for this many seconds, per minute")
    parser.add_argument("--python", default=None, help="interpreter of the server (e.g. .venv-visdom03/bin/python)")
    parser.add_argument("--child", nargs=6, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        port, env, seconds, rate, journal, loggers = args.child
        return run_child(int(port), env, float(seconds), float(rate), journal, int(loggers))

    if args.before:   # the children inherit it: they import that commit's vizlab
        os.environ[baseline.TREE_ENV] = baseline.tree(args.before)
    print(f"load average before: {os.getloadavg()}; {os.cpu_count()} cores"
          + (f"; runs log with {baseline.describe(args.before)}" if args.before else ""))
    print("| server | runs | offered pts/s | delivered pts/s | flush p50 / p99 / max (s) | server CPU | "
          "machine CPU | load | server ms per /update p50 / max | per /events p50 | whole / append requests "
          "| all delivered |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        if args.soak:
            srv, log_path = serve(False, tmp, args.python)
            try:
                row = level(srv, log_path, args.soak_runs, args.soak, args.rate, tmp, args.per_process)
                print_row(f"vizlab serve, {args.soak:.0f} s", row)
                print_soak(row, log_path)
            finally:
                srv.stop()
        for stock in (False, True):
            levels = [] if args.soak else [n for n in args.runs if not stock or n == args.stock_runs]
            for n in levels:
                srv, log_path = serve(stock, tmp, args.python)   # a fresh server per level
                try:
                    print_row("stock visdom" if stock else "vizlab serve",
                              level(srv, log_path, n, args.seconds, args.rate, tmp, args.per_process))
                finally:
                    srv.stop()
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
