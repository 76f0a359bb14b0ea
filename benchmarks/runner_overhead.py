"""What a live Visdom server costs the MNIST runner: seconds per epoch streaming to a server this
script starts vs `--no-visdom` (journal only), the runs interleaved in the same session.

    python benchmarks/runner_overhead.py [--epochs 3] [--repeats 3] [--data-dir DIR]

Each run is a fresh `runners/mnist_mlp.py` process (every step's loss, per-epoch scalars and a
48-image samples grid). Runs alternate live/off and swap order every repeat (ABBA), so drifting
machine load hits both alike; the table compares medians. It also reports the CPU seconds the
Visdom server process itself used during the live runs.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

from vizlab.runner_kit.data import default_data_dir
from vizlab.server.process import VisdomServer

RUNNER = os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, "runners", "mnist_mlp.py")


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--epochs", type=int, default=3, help="epochs per run (default: %(default)s)")
    p.add_argument("--repeats", type=int, default=3, help="runs per variant, interleaved (default: %(default)s)")
    p.add_argument("--data-dir", default=default_data_dir(),
                   help="folder holding MNIST/raw/ (default: %(default)s)")
    return p.parse_args(argv)


def cpu_seconds(pid):
    """User + system CPU time of a process, from /proc (Linux)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_once(args, port, live, tmp, index):
    """Seconds per epoch (the runner's own timing of its training loop) of one runner process."""
    metrics = os.path.join(tmp, f"metrics-{index}.json")
    cmd = [sys.executable, RUNNER, "--epochs", str(args.epochs), "--quiet", "--data-dir", args.data_dir,
           "--port", str(port), "--env", f"runner_overhead_{index}", "--journal",
           os.path.join(tmp, f"run-{index}.jsonl"), "--metrics-out", metrics]
    if not live:
        cmd.append("--no-visdom")
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"runner failed ({' '.join(cmd)}):\n{done.stderr[-2000:]}")
    with open(metrics) as f:
        return json.load(f)["seconds_per_epoch"]


def main(argv=None):
    args = parse_args(argv)
    load_before = os.getloadavg()[0]
    times = {"live": [], "off": []}
    server_cpu = 0.0
    with tempfile.TemporaryDirectory() as tmp, VisdomServer() as server:
        for repeat in range(args.repeats):
            order = ("live", "off") if repeat % 2 == 0 else ("off", "live")
            for variant in order:
                before = cpu_seconds(server.process.pid)
                seconds = run_once(args, server.port, variant == "live", tmp, len(times["live"]) + len(times["off"]))
                if variant == "live":
                    server_cpu += cpu_seconds(server.process.pid) - before
                times[variant].append(seconds)
                print(f"{variant}: {seconds:.3f} s/epoch", flush=True)
    live, off = statistics.median(times["live"]), statistics.median(times["off"])
    # Another torch process on the same cores wrecks both variants' OpenMP pools (10x and worse):
    # the load average says whether the figures can be trusted.
    print(f"\nMNIST runner ({args.epochs} epochs x {args.repeats} runs per variant, {time.strftime('%Y-%m-%d')}; "
          f"load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after, {os.cpu_count()} cores)\n")
    print("| measure | value | target |\n|---|---|---|")
    print(f"| s/epoch with `--no-visdom` (median) | {off:.3f} | |")
    print(f"| s/epoch streaming to a live local server (median) | {live:.3f} | |")
    print(f"| slowdown from the live server | {100 * (live / off - 1):+.1f} % | < 3 % |")
    print(f"| Visdom server CPU per live run | {server_cpu / args.repeats:.2f} s | |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
