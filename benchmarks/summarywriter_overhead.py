"""What add_scalar costs the training thread: vizlab's SummaryWriter (streaming to a local Visdom
server this script starts) against torch.utils.tensorboard's SummaryWriter (event file), same run.

    python benchmarks/summarywriter_overhead.py [--calls 20000] [--repeats 5]

Each add_scalar call is timed on its own; variants are interleaved and compared as medians, since
the machine is shared and noisy. Prints the load average, a markdown table and the ratio.
"""

import argparse
import os
import statistics
import tempfile
import time

import torch

from vizlab import SummaryWriter, VisdomServer


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--calls", type=int, default=20000, help="add_scalar calls per timed round (default: %(default)s)")
    p.add_argument("--repeats", type=int, default=5, help="rounds per writer, interleaved (default: %(default)s)")
    return p.parse_args(argv)


def median_call_ns(writer, calls, value):
    """Median wall time of one add_scalar call: three tags, as a training loop logs them."""
    timer, samples = time.perf_counter_ns, []
    for step in range(calls):
        start = timer()
        writer.add_scalar(("Loss/train", "Loss/test", "lr")[step % 3], value, step)
        samples.append(timer() - start)
    return statistics.median(samples)


def main(argv=None):
    args = parse_args(argv)
    from torch.utils.tensorboard import SummaryWriter as TorchWriter
    print(f"load average before: {os.getloadavg()}")
    results = {"torch.utils.tensorboard": {"float": [], "tensor": []}, "vizlab": {"float": [], "tensor": []}}
    with tempfile.TemporaryDirectory() as tmp, VisdomServer(env_path=f"{tmp}/env") as server:
        for repeat in range(args.repeats):
            for name in results:
                log_dir = f"{tmp}/{name}_{repeat}"
                writer = TorchWriter(log_dir) if name == "torch.utils.tensorboard" else \
                    SummaryWriter(log_dir, port=server.port)
                kinds = [("float", 0.5), ("tensor", torch.tensor(0.5))]
                for kind, value in kinds[::-1] if repeat % 2 else kinds:   # neither always goes first
                    results[name][kind].append(median_call_ns(writer, args.calls, value))
                writer.close()
    print(f"load average after: {os.getloadavg()}")
    print("\n| add_scalar (median of per-call medians) | float | one-element tensor |\n|---|---|---|")
    med = {n: {k: statistics.median(v) / 1000 for k, v in kinds.items()} for n, kinds in results.items()}
    for name, kinds in med.items():
        print(f"| {name} | {kinds['float']:.1f} µs | {kinds['tensor']:.1f} µs |")
    for kind in ("float", "tensor"):
        print(f"{kind}: vizlab / torch = {med['vizlab'][kind] / med['torch.utils.tensorboard'][kind]:.2f}x")


if __name__ == "__main__":
    main()
