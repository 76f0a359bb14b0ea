"""What the live view costs as a run grows: one run up to the last of --at steps, 8 line windows
open in headless Chromium, before (--before REV: that commit's whole tree, in a child process, see
benchmarks/baseline.py) and now, each with its own server and browser.

Each step logs 4 windows (every step) and 4 more every 10th step. When the every-step traces
reach each of --at points, the loop slows to --rate steps/s for --seconds and these are taken
over that stretch: bytes the logger sends per second (JSON bodies), the server's own ms per
second (tornado's access log, as server_append.py reads it), the server's CPU (psutil), and the
browser's main-thread time per second (Chrome DevTools Protocol Performance.getMetrics:
TaskDuration, ScriptDuration deltas). Between stretches the loop runs as fast as it can.
Run: .venv/bin/python benchmarks/live_view_cost.py [--at 10000 100000 1000000 --rate 1500 --seconds 10]
"""

import argparse
import json
import math
import os
import re
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import baseline  # noqa: E402
sys.path.insert(0, str(Path(baseline.use_tree()) / "tests"))
from support.browser import open_browser  # noqa: E402
from vizlab import VisdomLogger, VisdomServer  # noqa: E402
from vizlab.connection import Connection  # noqa: E402

EVERY_STEP = ["loss", "lr", "grad_norm", "throughput"]
EVERY_10TH = ["val_loss", "accuracy", "weight_norm", "lr_scale"]
ACCESS = re.compile(r"INFO:tornado\.access:\d+ POST /(update|events|vizlab/batch) \(.*?\) ([\d.]+)ms")
SENT = {"bytes": 0, "update": 0, "events": 0}
_LOCK = threading.Lock()
_post = Connection.post
_post_batch = Connection.post_batch


def count(endpoint, message):
    size = len(json.dumps(message, separators=(",", ":")))
    with _LOCK:
        SENT["bytes"] += size
        SENT[endpoint] = SENT.get(endpoint, 0) + 1


def counting_post(self, endpoint, message):
    reply = _post(self, endpoint, message)
    count(endpoint, message)
    return reply


def counting_batch(self, items):
    """Each window of a batch counts as the request it replaces (its JSON, its endpoint)."""
    replies = _post_batch(self, items)
    for endpoint, message in items:
        count(endpoint, message)
    return replies


def log_step(log, step):
    y = 1.0 / math.sqrt(step + 1)
    for i, win in enumerate(EVERY_STEP):
        log.scalar(win, step, y * (i + 1) + 0.01 * math.sin(step))
    if step % 10 == 0:
        for i, win in enumerate(EVERY_10TH):
            log.scalar(win, step, y * (i + 2))


def server_ms(log_path, start, end):
    """Sum of the server's handler ms for /update, /events and /vizlab/batch between two byte offsets."""
    with open(log_path, "rb") as f:
        f.seek(start)
        text = f.read(end - start).decode(errors="replace")
    return sum(float(ms) for _, ms in ACCESS.findall(text))


def metrics(cdp):
    values = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}
    return values["TaskDuration"], values["ScriptDuration"]


def stretch(log, step, args, cdp, srv, server_proc):
    """Log at --rate for --seconds; per-second costs over that stretch."""
    log.flush(timeout=120)             # start from a synced view
    offset0 = os.path.getsize(srv.log_path)
    with _LOCK:
        bytes0, upd0, ev0 = SENT["bytes"], SENT["update"], SENT["events"]
    cpu0, (task0, script0) = server_proc.cpu_times(), metrics(cdp)
    t0 = time.monotonic()
    for k in range(int(args.rate * args.seconds)):
        log_step(log, step)
        step += 1
        time.sleep(max(0.0, t0 + (k + 1) / args.rate - time.monotonic()))
    elapsed = time.monotonic() - t0
    task1, script1 = metrics(cdp)
    cpu1 = server_proc.cpu_times()
    with _LOCK:
        bytes1, upd1, ev1 = SENT["bytes"], SENT["update"], SENT["events"]
    offset1 = os.path.getsize(srv.log_path)
    return step, {"bytes_per_s": (bytes1 - bytes0) / elapsed,
                  "server_ms_per_s": server_ms(srv.log_path, offset0, offset1) / elapsed,
                  "server_cpu_ms_per_s": 1000 * ((cpu1.user + cpu1.system) - (cpu0.user + cpu0.system)) / elapsed,
                  "browser_task_ms_per_s": 1000 * (task1 - task0) / elapsed,
                  "browser_script_ms_per_s": 1000 * (script1 - script0) / elapsed,
                  "updates": upd1 - upd0, "whole_sends": ev1 - ev0}


def one_run(args, browser, srv):
    env = f"lvc_{time.monotonic_ns()}"
    log = VisdomLogger(env=env, port=srv.port, journal=False)
    for win in EVERY_STEP + EVERY_10TH:
        log.window(win, kind="line", width=400, height=300)
    assert log.flush(timeout=60)
    page = browser.new_page(viewport={"width": 1600, "height": 1200})
    page.goto(f"{srv.url}/env/{env}")
    page.wait_for_selector(".js-plotly-plot", timeout=60_000)
    cdp = page.context.new_cdp_session(page)
    cdp.send("Performance.enable")
    server_proc = psutil.Process(srv.process.pid)
    rows, step, t_start = {}, 0, time.monotonic()
    for target in args.at:
        while step < target:
            log_step(log, step)
            step += 1
        step, rows[target] = stretch(log, step, args, cdp, srv, server_proc)
        print(target, {k: round(v, 1) for k, v in rows[target].items()}, flush=True)
    flushed = log.flush(timeout=120)
    log.close()
    page.close()
    return {"rows": rows, "flushed": flushed, "seconds": time.monotonic() - t_start}


def measure(args):
    """The child: one run of this process's tree, with its own server and browser."""
    Connection.post, Connection.post_batch = counting_post, counting_batch
    with tempfile.TemporaryDirectory() as tmp, \
            VisdomServer(env_path=tmp, log_path=os.path.join(tmp, "server.log"), startup_timeout=180) as srv, \
            open_browser() as browser:
        baseline.emit(one_run(args, browser, srv))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--at", type=int, nargs="+", default=[10_000, 100_000, 1_000_000],
                        help="points per every-step trace at which a stretch is measured")
    parser.add_argument("--rate", type=float, default=1500.0, help="steps/s while measuring")
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each measured stretch")
    parser.add_argument("--before", default=baseline.BEFORE, help="the commit to compare with (its whole tree)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return measure(args)
    print(f"load average before: {os.getloadavg()}")
    results = {}
    argv = ["--child", "--at", *map(str, args.at), "--rate", str(args.rate), "--seconds", str(args.seconds)]
    for which, rev in (("before", args.before), ("after", None)):
        results[which] = baseline.child(rev, __file__, argv)
        print(f"{which} = {baseline.describe(rev)}: flushed {results[which]['flushed']}, "
              f"{results[which]['seconds']:.0f} s", flush=True)
    print(f"\n8 windows in headless Chromium, {args.rate:.0f} steps/s for {args.seconds:.0f} s at each length")
    print("| points per trace | code | KB sent/s | server ms/s (access log) | server CPU ms/s | "
          "browser main thread ms/s (script) | whole sends / appends |")
    print("|---:|---|---:|---:|---:|---:|---:|")
    for target in args.at:
        for which in ("before", "after"):
            r = results[which]["rows"][str(target)]
            print(f"| {target:,} | {which} | {r['bytes_per_s'] / 1000:.1f} | {r['server_ms_per_s']:.1f} | "
                  f"{r['server_cpu_ms_per_s']:.0f} | {r['browser_task_ms_per_s']:.0f} "
                  f"({r['browser_script_ms_per_s']:.0f}) | {r['whole_sends']} / {r['updates']} |")
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
