"""The logger at real scale: sustained calls/s with zero loss, call cost, caller wait, close()
against a hung server, shown-point coverage of long traces, peak RSS; torch's SummaryWriter
(when tensorboard is installed) measured in the same run as the baseline.

    python benchmarks/logger_stress.py [--seconds 5] [--calls 20000] [--long 1000000 10000000]

Starts its own Visdom server on a free port. The machine is shared: figures are medians, and
the load average is printed.
"""

import argparse
import os
import resource
import signal
import tempfile
import time

import torch

from vizlab import VisdomLogger, VisdomServer
from vizlab import journal as journal_mod
from vizlab.windows import Trace


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--seconds", type=float, default=5.0, help="length of each sustained run (default: %(default)s)")
    p.add_argument("--repeats", type=int, default=3, help="sustained runs per trace count; the median is shown (default: %(default)s)")
    p.add_argument("--calls", type=int, default=20000, help="calls timed one by one for p50/p99 (default: %(default)s)")
    p.add_argument("--long", type=int, nargs="+", default=[10**6, 10**7],
                   help="trace lengths for the coverage check (default: %(default)s)")
    return p.parse_args(argv)


def sustained(log, traces, seconds):
    """Log as fast as possible for `seconds`, round-robin over `traces` windows; calls/s counted
    until the journal holds every call (journal_offset waits for that)."""
    names = [f"w{i}" for i in range(traces)]
    step, start = 0, time.perf_counter()
    end = start + seconds
    while time.perf_counter() < end:
        for _ in range(1000):
            log.scalar(names[step % traces], step, step * 0.5)
            step += 1
    log.journal_offset()
    return step, step / (time.perf_counter() - start)


def count_points(path):
    return sum(len(r["x"]) if r["op"] == "points" else 1
               for r in journal_mod.read(path, expand=False) if r["op"] in ("points", "scalars"))


def call_costs(call, count):
    timer, samples = time.perf_counter_ns, []
    for i in range(count):
        t0 = timer()
        call(i)
        samples.append(timer() - t0)
    samples.sort()
    return samples[len(samples) // 2] / 1000, samples[int(len(samples) * 0.99)] / 1000


def hung_close(tmp, calls=3000):
    with VisdomServer(env_path=os.path.join(tmp, "env-hung")) as srv:
        path = os.path.join(tmp, "hung.jsonl")
        log = VisdomLogger(env="stress_hung", port=srv.port, journal=path, interval=0.05)
        for step in range(1000):
            log.scalar("loss", step, float(step))
        log.flush(timeout=20)
        os.kill(srv.process.pid, signal.SIGSTOP)
        try:
            for step in range(1000, calls):
                log.scalar("loss", step, float(step))
            t0 = time.perf_counter()
            log.close()
            took = time.perf_counter() - t0
        finally:
            os.kill(srv.process.pid, signal.SIGCONT)
        return took, count_points(path), calls


def coverage(n, max_points=10_000):
    trace = Trace(max_points)
    for i in range(n):
        trace.add(i, (i * 7919) % 1000 / 1000.0)
    xs, _ = trace.shown()
    tenths = [0] * 10
    for x in xs:
        tenths[min(9, x * 10 // n)] += 1
    return len(xs), [t / len(xs) for t in tenths]


def summary_writer_baseline(tmp, seconds, count):
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:
        return None
    writer = SummaryWriter(os.path.join(tmp, "tb"))
    step, start = 0, time.perf_counter()
    while time.perf_counter() < start + seconds:
        for _ in range(1000):
            writer.add_scalar("w0", step * 0.5, step)
            step += 1
    writer.flush()
    rate = step / (time.perf_counter() - start)
    p50, p99 = call_costs(lambda i: writer.add_scalar("cost", 0.5, i), count)
    writer.close()
    return rate, p50, p99


def main(argv=None):
    args = parse_args(argv)
    print(f"load average before: {' '.join(f'{v:.2f}' for v in os.getloadavg())}; "
          f"{os.cpu_count()} cores; torch {torch.__version__}")
    tmp = tempfile.mkdtemp(prefix="logger-stress-")
    print("\n| run | calls | calls/s, median of repeats | caller waited (s) | flush ok | points lost |")
    print("|---|---|---|---|---|---|")
    rss_start = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    rates = {}
    with VisdomServer(env_path=os.path.join(tmp, "env")) as srv:
        for traces in (1, 4, 16):
            runs = []
            for repeat in range(args.repeats):
                path = os.path.join(tmp, f"t{traces}-{repeat}.jsonl")
                log = VisdomLogger(env=f"stress{traces}", port=srv.port, journal=path)
                calls, rate = sustained(log, traces, args.seconds)
                ok = log.flush(timeout=60)
                stats = log.stats
                log.close()
                lost = calls - count_points(path) + stats["dropped"]
                runs.append((rate, calls, stats["waited_s"], ok, lost))
            rate, calls, waited, ok, lost = sorted(runs)[len(runs) // 2]
            rates[traces] = rate
            print(f"| vizlab, {traces} trace(s) | {calls} | {rate:,.0f} | {waited:.2f} | {ok} "
                  f"| lost {lost} (all runs: {sum(r[4] for r in runs)}) |", flush=True)
        log = VisdomLogger(env="stress_cost", port=srv.port, journal=os.path.join(tmp, "cost.jsonl"))
        f50, f99 = call_costs(lambda i: log.scalar("f", i, 0.5), args.calls)
        tensor = torch.tensor(0.5)
        t50, t99 = call_costs(lambda i: log.scalar("t", i, tensor), args.calls)
        log.close()
    base = summary_writer_baseline(tmp, args.seconds, args.calls)
    if base:
        print(f"| torch SummaryWriter.add_scalar (baseline) | - | {base[0]:,.0f} | - | - | - |")
    print("\n| call | p50 (us) | p99 (us) |\n|---|---|---|")
    print(f"| vizlab scalar(float) | {f50:.2f} | {f99:.2f} |")
    print(f"| vizlab scalar(0-d tensor) | {t50:.2f} | {t99:.2f} |")
    if base:
        print(f"| SummaryWriter.add_scalar(float) | {base[1]:.2f} | {base[2]:.2f} |")
        print(f"\nvizlab vs SummaryWriter: {rates[1] / base[0]:.1f}x the sustained rate (1 trace), "
              f"{base[1] / f50:.1f}x cheaper per call (p50)")
    else:
        print("\n(tensorboard not installed: no SummaryWriter baseline)")
    took, got, calls = hung_close(tmp)
    print(f"\nclose() against a SIGSTOPped server: {took:.2f} s; journal holds {got} of {calls} points")
    for n in args.long:
        shown, tenths = coverage(n)
        print(f"coverage after {n:,} points: {shown} shown; share per tenth of the x-range "
              f"min {min(tenths):.1%} max {max(tenths):.1%}")
    print(f"peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB "
          f"({rss_start:.0f} MiB after importing torch, before logging)")
    print(f"load average after: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")


if __name__ == "__main__":
    main()
