"""What a logging call costs in a forked child (each call is sent whole to the parent) against
the same call in the parent, in one run: --calls scalar() calls each, median of --repeat rounds;
then how long the parent's flush() takes to have the child's calls in its journal."""

import argparse
import os
import statistics
import sys
import tempfile
import time

from vizlab import VisdomLogger


def per_call(log, calls, trace):
    start = time.perf_counter()
    for step in range(calls):
        log.scalar("w", step, float(step), trace=trace)
    return (time.perf_counter() - start) / calls * 1e6


def in_child(log, calls, trace, pipe_w):
    pid = os.fork()
    if pid == 0:
        try:
            os.write(pipe_w, f"{per_call(log, calls, trace)}\n".encode())
        finally:
            os._exit(0)
    os.waitpid(pid, 0)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    read_end, write_end = os.pipe()
    with tempfile.TemporaryDirectory() as folder:
        log = VisdomLogger(env="bench_fork", journal=os.path.join(folder, "j.jsonl"), send=False)
        log.window("w")
        parent, child, flushes = [], [], []
        for round_ in range(args.repeat):
            parent.append(per_call(log, args.calls, f"parent{round_}"))
            in_child(log, args.calls, f"child{round_}", write_end)
            start = time.perf_counter()
            assert log.flush(timeout=600)
            flushes.append(time.perf_counter() - start)
        log.close()
    with os.fdopen(read_end) as f:
        child = [float(f.readline()) for _ in range(args.repeat)]
    print(f"load average {os.getloadavg()[0]:.1f}; {args.calls:,} scalar() calls, medians of {args.repeat}")
    print(f"parent: {statistics.median(parent):.2f} us/call   forked child: "
          f"{statistics.median(child):.2f} us/call   parent's flush after the child: "
          f"{statistics.median(flushes):.2f} s", file=sys.stdout)


if __name__ == "__main__":
    main()
