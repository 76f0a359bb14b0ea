"""What logging costs the training thread: vizlab's VisdomLogger against no logging and against
the plain visdom client, all measured in the same run against a local server this script starts.

    python benchmarks/logger_overhead.py [--steps 600] [--repeats 5] [--status-only]

Prints a markdown table. Timings on a shared machine are noisy, so variants are interleaved and
compared as ratios of medians.
"""

import argparse
import statistics
import sys
import tempfile
import time

import torch
from torch import nn
from visdom import Visdom

from vizlab import VisdomLogger, VisdomServer


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--steps", type=int, default=300, help="training steps per timed loop (default: %(default)s; 300 = half an MNIST epoch)")
    p.add_argument("--repeats", type=int, default=3, help="timed loops per variant, interleaved (default: %(default)s)")
    p.add_argument("--calls", type=int, default=20000, help="scalar() calls timed one by one (default: %(default)s)")
    p.add_argument("--points", type=int, default=50000, help="points for the delivery-rate test (default: %(default)s)")
    p.add_argument("--threads", type=int, default=2, help="torch.set_num_threads (default: %(default)s)")
    p.add_argument("--status-only", action="store_true",
                   help="only the status pane + watchdog on/off rows (the rest takes minutes)")
    return p.parse_args(argv)


class Rows(list):
    """Table rows, each also printed as soon as it is measured (a slow machine shows progress)."""

    def __iadd__(self, rows):
        for row in rows:
            self.append(row)
        return self

    def append(self, row):
        print(" ".join(row), flush=True)
        super().append(row)


def median_call_ns(call, count):
    """Median wall time of one call, each timed on its own."""
    timer = time.perf_counter_ns
    samples = []
    for i in range(count):
        start = timer()
        call(i)
        samples.append(timer() - start)
    return statistics.median(samples)


def status_rows(args, port, tmp):
    """scalar() per call and the journal thread's cost per point, status pane + watchdog on vs
    off, interleaved in this run (the watchdog checks traces named like a loss: these are)."""
    logs = {on: VisdomLogger(env=f"bench_status_{on}", port=port, journal=f"{tmp}/status_{on}.jsonl",
                             status=on, watchdog=on, total_steps=10**9) for on in (True, False)}
    tensor = torch.tensor(0.5)
    calls = {(on, kind): [] for on in logs for kind in ("float", "tensor")}
    start = 0
    for r in range(args.repeats):
        for on in ((True, False) if r % 2 else (False, True)):   # alternate which goes first
            log = logs[on]
            calls[on, "float"].append(median_call_ns(lambda i: log.scalar("loss_f", start + i, 0.5 + i % 7 * 0.01), args.calls))
            calls[on, "tensor"].append(median_call_ns(lambda i: log.scalar("loss_t", start + i, tensor), args.calls))
            assert log.flush(timeout=120)
        start += args.calls
    rows = []
    for kind in ("float", "tensor"):
        on, off = (statistics.median(calls[o, kind]) for o in (True, False))
        rows.append((f"one `scalar()` call, {kind}, status+watchdog on vs off (median of {args.repeats} medians)",
                     f"{on / 1000:.2f} vs {off / 1000:.2f} µs ({on / off:.2f}x)", "~1 µs" if kind == "float" else "~3 µs"))
    # the journal thread: points logged as fast as possible until all are in the journal (no server)
    points = {on: [] for on in logs}
    for r in range(args.repeats):
        for on in (True, False):
            log = VisdomLogger(env="bench_status_j", journal=f"{tmp}/status_j_{on}_{r}.jsonl", send=False,
                               status=on, watchdog=on)
            t0 = time.perf_counter()
            for i in range(args.points):
                log.scalar("loss", i, 1.0 + i % 13 * 0.01)
            assert log.flush(timeout=120)
            points[on].append((time.perf_counter() - t0) / args.points)
            log.close()
    on, off = (statistics.median(points[o]) for o in (True, False))
    rows.append((f"log + journal one point, {args.points} points, send=False, status+watchdog on vs off",
                 f"{on * 1e6:.2f} vs {off * 1e6:.2f} µs ({on / off:.2f}x)", ""))
    rows += watchdog_rows(args)
    for log in logs.values():
        log.close()
    return rows


def watchdog_rows(args):
    """The journal thread's own cost per point: Tracker.observe on batches as a fast loop makes
    them (4096 points), a loss trace (spike checks on) and another (NaN checks only)."""
    from vizlab.status import Tracker, Watchdog

    n = args.points
    xs, ys = list(range(n)), [1.0 + i % 13 * 0.01 for i in range(n)]
    rows = []
    for win in ("loss", "accuracy"):
        batches = [[{"op": "points", "win": win, "x": xs[i:i + 4096], "y": {"value": ys[i:i + 4096]}}]
                   for i in range(0, n, 4096)]
        cost = {}
        for name, dog in (("on", Watchdog()), ("off", None)):
            samples = []
            for _ in range(args.repeats):
                tracker = Tracker(dog)
                start = time.perf_counter()
                for batch in batches:
                    tracker.observe(batch, 0.0)
                samples.append((time.perf_counter() - start) / n)
            cost[name] = statistics.median(samples)
        rows.append((f"journal thread: status tracker per point, window {win!r}, watchdog on vs off",
                     f"{cost['on'] * 1e6:.3f} vs {cost['off'] * 1e6:.3f} µs", ""))
    return rows


def make_training(steps):
    """MNIST-sized MLP (784-200-200-10), batch 200, data preloaded in memory."""
    torch.manual_seed(0)
    data = torch.randn(steps * 200, 784)
    target = torch.randint(0, 10, (steps * 200,))
    model = nn.Sequential(nn.Linear(784, 200), nn.ReLU(), nn.Linear(200, 200), nn.ReLU(), nn.Linear(200, 10))
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()

    def epoch(log_step):
        start = time.perf_counter()
        for step in range(steps):
            x, y = data[step * 200:(step + 1) * 200], target[step * 200:(step + 1) * 200]
            opt.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            opt.step()
            log_step(step, loss)
        return time.perf_counter() - start

    return epoch


def main(argv=None):
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    rows = Rows()
    with tempfile.TemporaryDirectory() as tmp, VisdomServer() as server:
        if args.status_only:
            rows += status_rows(args, server.port, tmp)
            return print_table(args, rows)
        log = VisdomLogger(env="bench", port=server.port, journal=f"{tmp}/bench.jsonl")
        viz = Visdom(port=server.port, env="bench_plain", raise_exceptions=False, use_incoming_socket=False)

        # 1. one scalar() call on the caller's thread
        float_ns = median_call_ns(lambda i: log.scalar("calls", i, 0.5), args.calls)
        tensor = torch.tensor(0.5)
        tensor_ns = median_call_ns(lambda i: log.scalar("calls_t", i, tensor), args.calls)
        plain_ns = median_call_ns(lambda i: viz.line(X=[i], Y=[0.5], win="calls", name="v", update="append"), 200)
        log.flush(timeout=60)
        rows += [("one `scalar()` call, Python float (median)", f"{float_ns / 1000:.1f} µs", "< 10 µs"),
                 ("one `scalar()` call, 0-d tensor (median)", f"{tensor_ns / 1000:.1f} µs", "< 10 µs"),
                 ("one plain `viz.line(update='append')` call (median)", f"{plain_ns / 1000:.0f} µs", "")]

        # 2. a training loop logging every step, interleaved with the same loop not logging
        epoch = make_training(args.steps)
        variants = {
            "none": lambda step, loss: None,
            "vizlab": lambda step, loss: log.scalar("loss", step, loss, trace="train"),
            "visdom": lambda step, loss: viz.line(X=[step], Y=[loss.item()], win="loss", name="train",
                                                  update="append"),
        }
        epoch(variants["none"])   # warm-up
        times = {name: [] for name in variants}
        for _ in range(args.repeats):
            for name in ("none", "vizlab", "none", "visdom"):
                times[name].append(epoch(variants[name]))
        log.flush(timeout=60)
        base = statistics.median(times["none"])
        for name, label in (("vizlab", "VisdomLogger"), ("visdom", "plain visdom client")):
            t = statistics.median(times[name])
            rows.append((f"training loop logging every step with {label}: slowdown",
                         f"{100 * (t / base - 1):+.1f} % ({t / args.steps * 1e3:.2f} vs "
                         f"{base / args.steps * 1e3:.2f} ms/step)", "< 3 %" if name == "vizlab" else ""))

        # 3. delivery rate to the local server: points logged -> all on the server
        start = time.perf_counter()
        for i in range(args.points):
            log.scalars("rate", i, {"a": i * 0.5, "b": -i * 0.5})
        delivered = log.flush(timeout=120)
        seconds = time.perf_counter() - start
        rows.append(("points delivered per second (2 traces, logged as fast as possible, until flush() is True)",
                     f"{2 * args.points / seconds:,.0f}/s" + ("" if delivered else " (NOT all delivered)"), ""))
        log.close()
        rows += status_rows(args, server.port, tmp)
    return print_table(args, rows)


def print_table(args, rows):
    print(f"\nvizlab logger overhead (torch {torch.__version__}, {args.threads} threads, "
          f"{args.steps} steps x {args.repeats} repeats)\n")
    print("| measure | value | target |\n|---|---|---|")
    for measure, value, target in rows:
        print(f"| {measure} | {value} | {target} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
