"""What logging costs the training thread: vizlab's VisdomLogger against no logging and against
the plain visdom client, all measured in the same run against a local server this script starts.

    python benchmarks/logger_overhead.py [--steps 600] [--repeats 5]

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

    print(f"\nvizlab logger overhead (torch {torch.__version__}, {args.threads} threads, "
          f"{args.steps} steps x {args.repeats} repeats)\n")
    print("| measure | value | target |\n|---|---|---|")
    for measure, value, target in rows:
        print(f"| {measure} | {value} | {target} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
