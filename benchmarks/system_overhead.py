"""What watch_system costs the MNIST training loop: seconds per epoch with and without the system
panes, the runs interleaved in one process (ABBA order so drifting load hits both alike).

    python benchmarks/system_overhead.py [--repeats 4] [--steps 150] [--every 0.5] [--data-dir DIR]

Each run trains a fresh MLP (mnist_mlp's model) for `--steps` batches of 200 on the real MNIST
images, logging every 20th loss to a journal-only VisdomLogger; the `on` runs also sample the
system panes every `--every` seconds (4x the default rate, to make any cost visible).
"""

import argparse
import itertools
import os
import statistics
import tempfile
import time

import torch
import torch.nn.functional as F

from vizlab import VisdomLogger
from vizlab.runner_kit.data import default_data_dir, load_mnist, shuffled_batches
from vizlab.runner_kit.models import MLP


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--repeats", type=int, default=4, help="runs per variant (default: %(default)s)")
    p.add_argument("--steps", type=int, default=150, help="training steps per run (default: %(default)s)")
    p.add_argument("--every", type=float, default=0.5, help="watch_system period, s (default: %(default)s)")
    p.add_argument("--data-dir", default=default_data_dir(), help="folder holding MNIST/raw/ (default: %(default)s)")
    return p.parse_args(argv)


def train(x, y, steps, journal, every):
    """Seconds the training loop took (the logger opened and closed outside the timing)."""
    torch.manual_seed(0)
    model = MLP()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    generator = torch.Generator().manual_seed(0)
    with VisdomLogger(env="system_overhead", journal=journal, send=False) as log:
        if every:
            log.watch_system(every=every)
        started = time.perf_counter()
        for step, idx in enumerate(itertools.islice(shuffled_batches(len(x), 200, generator), steps), 1):
            loss = F.cross_entropy(model(x[idx]), y[idx])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            if step % 20 == 0:
                log.scalar("loss", step, loss.detach())
        return time.perf_counter() - started


def main(argv=None):
    args = parse_args(argv)
    print(f"load average before: {os.getloadavg()[0]:.2f}; torch threads {torch.get_num_threads()}")
    x, y, _, _ = load_mnist(args.data_dir)
    times = {"off": [], "on": []}
    with tempfile.TemporaryDirectory() as tmp:
        train(x, y, 20, os.path.join(tmp, "warm.jsonl"), None)   # warm up allocator and kernels
        for r in range(args.repeats):
            for variant in (("off", "on") if r % 2 == 0 else ("on", "off")):
                every = args.every if variant == "on" else None
                times[variant].append(train(x, y, args.steps, os.path.join(tmp, f"{variant}{r}.jsonl"), every))
    off, on = statistics.median(times["off"]), statistics.median(times["on"])
    for variant, values in times.items():
        print(f"{variant:>3}: median {statistics.median(values):.3f} s for {args.steps} steps; runs "
              + " ".join(f"{v:.3f}" for v in values))
    print(f"ratio on/off: {on / off:.3f} (watch_system every {args.every} s)")
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
