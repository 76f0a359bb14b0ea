"""What VisdomLogger(config=...) costs: the per-call cost of scalar() with and without a config
(it should be the same: the settings are one record queued at construction), and the one-time
conversion of the settings on the caller's thread.

    python benchmarks/config_overhead.py [--calls 20000] [--repeats 5]

Loggers write a journal (send=False: no server, so the sender thread adds no noise). Variants are
interleaved and compared as ratios of medians against no config, measured in the same run.
"""

import argparse
import statistics
import sys
import tempfile
import time

import numpy as np
import torch

from logger_overhead import median_call_ns   # this folder is on sys.path when run as a script
from vizlab import VisdomLogger
from vizlab.run_settings import plain_settings

TYPICAL = {"lr": np.float32(0.01), "batch_size": 64, "epochs": 10, "optimizer": "adam",
           "momentum": 0.9, "weight_decay": torch.tensor(5e-4), "seed": 0, "device": torch.device("cpu"),
           "model": {"hidden": 200, "layers": [784, 200, 10], "dropout": 0.1}}
HUGE = {f"key{i}": "v" * 100 for i in range(5000)}
VARIANTS = {"no config": None, "config (11 settings)": TYPICAL, "config (5000 settings)": HUGE}


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--calls", type=int, default=20000, help="scalar() calls timed one by one per loop (default: %(default)s)")
    p.add_argument("--repeats", type=int, default=5, help="timed loops per variant, interleaved (default: %(default)s)")
    return p.parse_args(argv)


def per_call(config, calls, folder, value):
    """Median ns of one scalar() call (a declared window) on a logger opened with `config`."""
    log = VisdomLogger(env="bench", journal=f"{folder}/run-{time.perf_counter_ns()}.jsonl", send=False,
                       config=config)
    try:
        log.window("loss")
        return median_call_ns(lambda i: log.scalar("loss", i, value(i)), calls)
    finally:
        log.close()


def main(argv=None):
    args = parse_args(argv)
    tensor = torch.tensor(0.5)   # made once: the timed call is scalar() alone
    values = {"float": lambda i: 0.5, "0-d tensor": lambda i: tensor}
    print(f"python {sys.version.split()[0]}, torch {torch.__version__}, {args.calls} calls x "
          f"{args.repeats} loops per variant, interleaved\n")
    print("| value | variant | median ns per scalar() | ratio to no config |\n|---|---|---|---|")
    with tempfile.TemporaryDirectory() as folder:
        for kind, value in values.items():
            samples = {name: [] for name in VARIANTS}
            for _ in range(args.repeats):
                for name, config in VARIANTS.items():
                    samples[name].append(per_call(config, args.calls, folder, value))
            base = statistics.median(samples["no config"])
            for name, got in samples.items():
                print(f"| {kind} | {name} | {statistics.median(got):.0f} | {statistics.median(got) / base:.2f} |")
    print("\n| config | one-time conversion, median of 20 (ms) |\n|---|---|")
    for name, config in list(VARIANTS.items())[1:]:
        times = []
        for _ in range(20):
            start = time.perf_counter()
            plain_settings(config)
            times.append(time.perf_counter() - start)
        print(f"| {name} | {statistics.median(times) * 1e3:.3f} |")


if __name__ == "__main__":
    main()
