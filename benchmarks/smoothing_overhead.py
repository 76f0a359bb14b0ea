"""What smoothed companions cost: `scalar()` on the caller's thread (float and 0-d tensor) with
smoothing on (0.6, the default) and off (0) in the same run, and the journal thread's share.

    python benchmarks/smoothing_overhead.py [--calls 20000] [--repeats 5]

The smoothing is done on the journal thread (the window model), never in the call, so the calls
should cost the same; the journal thread pays per point. Variants are interleaved against one
local server this script starts; the table gives medians over repeats, their on/off ratios,
and the best repeat of each (the least disturbed by other load on a shared machine).
"""

import argparse
import random
import statistics
import sys
import tempfile
import time

import torch

from logger_overhead import median_call_ns
from vizlab import VisdomLogger, VisdomServer
from vizlab.windows import Windows

VARIANTS = {"off": 0.0, "on": 0.6}


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--calls", type=int, default=20000, help="scalar() calls timed one by one per variant and repeat (default: %(default)s)")
    p.add_argument("--repeats", type=int, default=5, help="interleaved repeats of each variant (default: %(default)s)")
    p.add_argument("--points", type=int, default=200_000, help="points through the window model alone (default: %(default)s)")
    return p.parse_args(argv)


def calls(port, tmp, weight, n, ys, tag):
    """(float ns, tensor ns, seconds until flush) for one logger at `weight`."""
    log = VisdomLogger(env=f"bench_smooth_{tag}", port=port, journal=f"{tmp}/{tag}.jsonl", smoothing=weight)
    tensors = [torch.tensor(y) for y in ys[:1000]]
    start = time.perf_counter()
    float_ns = median_call_ns(lambda i: log.scalar("loss", i, ys[i]), n)
    tensor_ns = median_call_ns(lambda i: log.scalar("loss_t", i, tensors[i % 1000]), n)
    delivered = log.flush(timeout=120)
    seconds = time.perf_counter() - start
    log.close()
    return float_ns, tensor_ns, seconds if delivered else float("nan")


def model_us_per_point(weight, ys):
    """The window model alone (what the journal thread does per point), in batches of 1000."""
    model = Windows("e", 10_000, weight)
    start = time.perf_counter()
    for i in range(0, len(ys), 1000):
        model.apply({"op": "points", "win": "w", "x": list(range(i, i + 1000)), "y": {"t": ys[i:i + 1000]}})
    return (time.perf_counter() - start) / len(ys) * 1e6


def main(argv=None):
    args = parse_args(argv)
    rng = random.Random(0)
    ys = [1.0 / (1 + i / 500) + rng.gauss(0, 0.1) for i in range(max(args.calls, args.points))]
    results = {name: {"float": [], "tensor": [], "flush": [], "model": []} for name in VARIANTS}
    with tempfile.TemporaryDirectory() as tmp, VisdomServer() as server:
        for r in range(args.repeats):
            for name, weight in VARIANTS.items():
                float_ns, tensor_ns, seconds = calls(server.port, tmp, weight, args.calls, ys, f"{name}{r}")
                res = results[name]
                res["float"].append(float_ns / 1000)
                res["tensor"].append(tensor_ns / 1000)
                res["flush"].append(seconds)
                res["model"].append(model_us_per_point(weight, ys[:args.points]))
                print(f"repeat {r} {name}: float {float_ns / 1000:.2f} µs, tensor {tensor_ns / 1000:.2f} µs, "
                      f"logged+delivered in {seconds:.2f} s, model {res['model'][-1]:.2f} µs/point", flush=True)
    med = {name: {k: statistics.median(v) for k, v in res.items()} for name, res in results.items()}
    best = {name: {k: min(v) for k, v in res.items()} for name, res in results.items()}
    rows = [("one `scalar()` call, Python float (median)", "float", "µs", "~1 µs"),
            ("one `scalar()` call, 0-d tensor (median)", "tensor", "µs", "~3 µs"),
            (f"{2 * args.calls} calls logged until flush() is True", "flush", "s", ""),
            ("window model per point (journal thread), batches of 1000", "model", "µs", "")]
    print(f"\nsmoothing overhead (torch {torch.__version__}, {args.calls} calls x {args.repeats} repeats, "
          f"model {args.points} points)\n")
    print("| measure | smoothing off | smoothing on (0.6) | on / off | best repeat, off / on | target |\n"
          "|---|---|---|---|---|---|")
    for label, key, unit, target in rows:
        off, on = med["off"][key], med["on"][key]
        print(f"| {label} | {off:.2f} {unit} | {on:.2f} {unit} | {on / off:.2f} | "
              f"{best['off'][key]:.2f} / {best['on'][key]:.2f} {unit} | {target} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
