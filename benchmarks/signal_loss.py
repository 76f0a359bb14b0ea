"""What SIGTERM costs a run that logs: calls accepted vs. calls in the journal.

A child process logs one scalar per step to a live local server (a slow loop sleeping 1 ms per
step, and a fast loop that does not sleep), counting each accepted call in a shared 8-byte
file. After --seconds of logging it gets SIGTERM. Printed per loop, the median of --repeat runs:
calls accepted, calls missing from the journal, the time from the signal to the process's end,
and its exit status. --baseline makes the child restore SIG_DFL after opening the logger: the
behaviour before vizlab handled SIGTERM (the kernel ends the process at once). --second SIGINT
--gap 0.02 sends that second signal 20 ms after the first (it ends the process at once: calls
still queued may be lost; the journal keeps whole records only); the journal's last status
record is counted as "interrupted" or not.
"""

import argparse
import mmap
import os
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import time

from vizlab import journal as journal_mod
from vizlab.server.process import VisdomServer

CHILD = r"""
import mmap, os, signal, struct, sys, time
from vizlab import VisdomLogger
path, port, counter, speed, baseline = sys.argv[1:6]
accepted = mmap.mmap(os.open(counter, os.O_RDWR), 8)
log = VisdomLogger(env="bench_signal", port=int(port), journal=path)
if baseline == "1":
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
step = 0
while True:
    log.scalar("loss", step, 1.0 / (step + 1))
    step += 1
    struct.pack_into("q", accepted, 0, step)
    if speed == "slow":
        time.sleep(0.001)
"""


def one_run(port, speed, seconds, baseline, folder, second=None, gap=0.0):
    script, path, counter = (os.path.join(folder, n) for n in ("child.py", "run.jsonl", "count"))
    with open(script, "w") as f:
        f.write(CHILD)
    with open(counter, "wb") as f:
        f.write(b"\0" * 8)
    child = subprocess.Popen([sys.executable, script, path, str(port), counter, speed,
                              "1" if baseline else "0"], stderr=subprocess.DEVNULL)
    with open(counter, "rb") as f:
        shared = mmap.mmap(f.fileno(), 8, access=mmap.ACCESS_READ)
        while struct.unpack_from("q", shared)[0] == 0:   # the logger is open: start the clock
            time.sleep(0.01)
        time.sleep(seconds)
        child.send_signal(signal.SIGTERM)
        sent = time.perf_counter()
        if second:
            time.sleep(gap)
            child.send_signal(getattr(signal, second))
        child.wait()
        ended = time.perf_counter() - sent
        accepted = struct.unpack_from("q", shared)[0]
    skipped = []
    records = list(journal_mod.read(path, skipped=skipped))
    written = sum(1 for r in records if r["op"] == "scalars")
    states = [r["state"] for r in records if r["op"] == "status"]
    os.remove(path)
    return (accepted, max(0, accepted - written), ended, child.returncode,
            bool(states) and states[-1] == "interrupted", len(skipped))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--baseline", action="store_true", help="no SIGTERM handling (before)")
    parser.add_argument("--second", choices=["SIGTERM", "SIGINT", "SIGHUP"],
                        help="a second signal, --gap seconds after the first")
    parser.add_argument("--gap", type=float, default=0.02)
    args = parser.parse_args()
    then = f", then {args.second} {args.gap * 1000:.0f} ms later" if args.second else ""
    print(f"load average {os.getloadavg()[0]:.1f}; {'baseline (SIG_DFL)' if args.baseline else 'vizlab'}; "
          f"medians of {args.repeat} runs, SIGTERM after {args.seconds} s of logging{then}")
    with tempfile.TemporaryDirectory() as folder, VisdomServer(env_path=folder) as server:
        for speed in ("slow", "fast"):
            runs = [one_run(server.port, speed, args.seconds, args.baseline, folder, args.second,
                            args.gap) for _ in range(args.repeat)]
            accepted, lost, ended = (statistics.median(r[i] for r in runs) for i in range(3))
            print(f"{speed} loop: {accepted:,.0f} calls accepted, {lost:,.0f} missing from the journal, "
                  f"ended {ended:.2f} s after the signal, exit status {sorted({r[3] for r in runs})}, "
                  f"status interrupted in {sum(r[4] for r in runs)} of {len(runs)}, "
                  f"{sum(r[5] for r in runs)} bad journal lines")


if __name__ == "__main__":
    main()
