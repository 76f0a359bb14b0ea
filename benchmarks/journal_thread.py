"""What the journal thread costs per scalar call, and the memory a closed logger keeps: before and
now in one run.

CPU: --calls `log.scalar("loss", i, y)` calls (journal to a file, send=False, status=False), the
journal thread's CPU time (time.thread_time around each of its rounds) divided by the calls.
Memory: --memory-calls such calls with queue_size=10**6, close(), gc.collect(): the process's RSS
beside the same loop without a logger, each in a fresh process. Both for the whole tree of
--before (benchmarks/baseline.py) and for this tree, rounds interleaved; medians are printed.
Run: .venv/bin/python benchmarks/journal_thread.py [--before 46a1acc --rounds 3]
"""

import argparse
import gc
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import baseline  # noqa: E402


def thread_cpu(calls):
    """µs of the journal thread's CPU per scalar call."""
    from vizlab import VisdomLogger
    from vizlab.logger.writer import JournalThread

    spent, drain = [0.0], JournalThread._drain

    def timed(self):
        t = time.thread_time()
        drain(self)
        spent[0] += time.thread_time() - t

    JournalThread._drain = timed
    with tempfile.TemporaryDirectory() as tmp:
        log = VisdomLogger(env="bench", send=False, journal=os.path.join(tmp, "j.jsonl"), status=False,
                           queue_size=10**6)
        for i in range(calls):
            log.scalar("loss", i, 0.5 + i * 1e-7)
        log.close()
    JournalThread._drain = drain
    return spent[0] / calls * 1e6


def rss_after(calls, with_logger):
    """RSS in MB after `calls` scalar calls (or the same loop with no logger), close() and gc."""
    import psutil

    from vizlab import VisdomLogger

    with tempfile.TemporaryDirectory() as tmp:
        if with_logger:
            log = VisdomLogger(env="bench", send=False, journal=os.path.join(tmp, "j.jsonl"), status=False,
                               queue_size=10**6)
            call = log.scalar
        else:
            def call(win, x, y):
                return None
        for i in range(calls):
            call("loss", i, 0.5 + i * 1e-7)
        if with_logger:
            log.close()
        gc.collect()
        return psutil.Process().memory_info().rss / 2**20


def measure(rev, args, part):
    if part == "cpu":
        return baseline.child(rev, __file__, ["--child", "cpu", "--calls", str(args.calls)])
    # each memory figure in a process of its own: what one run leaves, not what earlier ones did
    return baseline.child(rev, __file__, ["--child", part, "--memory-calls", str(args.memory_calls)])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", default=baseline.BEFORE, help="the commit to compare with (its whole tree)")
    parser.add_argument("--calls", type=int, default=300_000, help="scalar calls per CPU round")
    parser.add_argument("--memory-calls", type=int, default=1_000_000, help="scalar calls per memory round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--child", choices=["cpu", "with", "without"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        baseline.use_tree()
        if args.child == "cpu":
            baseline.emit(thread_cpu(args.calls))
        else:
            baseline.emit(rss_after(args.memory_calls, args.child == "with"))
        return
    print(f"load average before: {os.getloadavg()}; before = {baseline.describe(args.before)}, "
          f"now = {baseline.describe(None)} ({baseline.head()})")
    trees = {"before": args.before, "now": None}
    got = {(which, part): [] for which in trees for part in ("cpu", "with", "without")}
    for r in range(args.rounds):
        for which, rev in (list(trees.items()) if r % 2 == 0 else list(trees.items())[::-1]):
            for part in ("cpu", "with", "without"):
                got[which, part].append(measure(rev, args, part))
            print(f"round {r} {which}: {got[which, 'cpu'][-1]:.2f} µs/call; RSS {got[which, 'with'][-1]:.0f} MB "
                  f"with a logger, {got[which, 'without'][-1]:.0f} MB without", flush=True)
    print(f"load average after: {os.getloadavg()}")
    med = {key: statistics.median(values) for key, values in got.items()}
    print(f"\nmedians of {args.rounds} rounds")
    print("| tree | journal thread CPU per scalar call | RSS after close() above a run without a logger |")
    print("|---|---:|---:|")
    for which in trees:
        extra = statistics.median(w - wo for w, wo in zip(got[which, "with"], got[which, "without"]))
        print(f"| {which} ({baseline.describe(trees[which])}) | {med[which, 'cpu']:.2f} µs | {extra:.1f} MB |")
    print(f"ratio before/now (CPU): {med['before', 'cpu'] / med['now', 'cpu']:.2f}x")


if __name__ == "__main__":
    main()
