"""MNIST training throughput: the tutorial's DataLoader + ToTensor/Normalize pipeline vs vizlab's fast path.

Same model (the sound preset's MLP), same optimizer, same seed, same run (epochs alternate between
the two, so machine load hits both alike); the fast path holds the whole
data set as normalized tensors on the device and slices shuffled batches out of it. Prints a markdown
table with seconds per epoch, samples/s, evaluation time, test accuracy and the speed-up, on the CPU and,
when there is one, on the GPU.

Then, for every device, the runner itself (each run a fresh `runners/mnist_mlp.py` process, variants
interleaved, medians over --repeats): eager vs `--compile` s/epoch and samples/s, the whole run's
seconds including evaluation and logging (compile time shown apart), test accuracy, and what
logging every step (`--log-every 1`) to a live local Visdom server costs vs `--no-visdom`.

    python benchmarks/mnist_throughput.py --epochs 2
    python benchmarks/mnist_throughput.py --skip-pipelines --runner-epochs 10 --repeats 3
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

import torch
import torch.nn.functional as F

from vizlab.runner_kit.data import MNIST_MEAN, MNIST_STD, default_data_dir, load_mnist, mnist_datasets, shuffled_batches
from vizlab.runner_kit.models import MLP
from vizlab.server.process import VisdomServer

RUNNER = os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, "runners", "mnist_mlp.py")
# name -> runner options; "live" variants stream to the local server, the others use --no-visdom.
VARIANTS = {
    "eager": [],
    "eager, every step to a live server": ["--log-every", "1", "live"],
    "compiled": ["--compile"],
    "compiled, every step to a live server": ["--compile", "--log-every", "1", "live"],
}


def tutorial_batches(data_dir, batch_size, seed):
    """(train, test) iterables of (x, y) batches the tutorial's way: per-sample PIL -> tensor transforms."""
    from torchvision import transforms

    to_tensor = transforms.Compose([transforms.ToTensor(), transforms.Normalize((MNIST_MEAN,), (MNIST_STD,))])
    train, test = mnist_datasets(data_dir, transform=to_tensor)
    shuffle = torch.Generator().manual_seed(seed)
    return (torch.utils.data.DataLoader(train, batch_size=batch_size, shuffle=True, generator=shuffle),
            torch.utils.data.DataLoader(test, batch_size=1000))


def fast_batches(data_dir, batch_size, seed, device):
    """(train, test) iterables of (x, y) batches sliced from whole-set tensors on `device`."""
    train_x, train_y, test_x, test_y = load_mnist(data_dir, device)
    shuffle = torch.Generator(device=device).manual_seed(seed)

    class Epochs:  # a fresh permutation each time it is iterated, like a shuffling DataLoader
        def __iter__(self):
            return ((train_x[idx], train_y[idx]) for idx in shuffled_batches(len(train_x), batch_size, shuffle))

    return Epochs(), list(zip(test_x.split(5000), test_y.split(5000)))


def synchronize(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def train_epoch(model, optimizer, train, device):
    """One pass over `train`; (seconds, samples)."""
    model.train()
    synchronize(device)
    started, samples = time.perf_counter(), 0
    for x, y in train:
        x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
        loss = F.cross_entropy(model(x), y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        samples += len(y)
    synchronize(device)
    return time.perf_counter() - started, samples


@torch.no_grad()
def evaluate(model, test, device):
    """(accuracy, seconds) over the test batches."""
    model.eval()
    started, correct, count = time.perf_counter(), 0, 0
    for x, y in test:
        x, y = x.to(device), y.to(device)
        correct += (model(x).argmax(1) == y).sum()
        count += len(y)
    accuracy = int(correct) / count  # int() waits for the device
    return accuracy, time.perf_counter() - started


def compare(pipelines, device, epochs, seed):
    """Train one identical MLP per pipeline, alternating epochs so machine load hits both alike."""
    runs = {}
    for name, (train, test) in pipelines.items():
        torch.manual_seed(seed)
        model = MLP().to(device)
        runs[name] = dict(model=model, optimizer=torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9),
                          train=train, test=test, seconds=0.0, samples=0)
    for _ in range(epochs):
        for run in runs.values():
            seconds, samples = train_epoch(run["model"], run["optimizer"], run["train"], device)
            run["seconds"] += seconds
            run["samples"] += samples
    rows = []
    for name, run in runs.items():
        accuracy, eval_seconds = evaluate(run["model"], run["test"], device)
        rows.append({"device": str(device), "pipeline": name, "seconds_per_epoch": run["seconds"] / epochs,
                     "samples_per_second": run["samples"] / run["seconds"], "eval_seconds": eval_seconds,
                     "test_accuracy": accuracy})
    return rows


def run_runner(device, options, args, port, tmp, index):
    """The metrics of one runner process (see runners/mnist_mlp.py's metrics)."""
    metrics = os.path.join(tmp, f"metrics-{index}.json")
    live = "live" in options
    cmd = [sys.executable, RUNNER, "--device", str(device), "--epochs", str(args.runner_epochs), "--quiet",
           "--data-dir", args.data_dir, "--port", str(port), "--env", f"mnist_throughput_{index}",
           "--journal", os.path.join(tmp, f"run-{index}.jsonl"), "--metrics-out", metrics]
    cmd += [o for o in options if o != "live"] + ([] if live else ["--no-visdom"])
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"runner failed ({' '.join(cmd)}):\n{done.stderr[-3000:]}")
    with open(metrics) as f:
        return json.load(f)


def compare_runner(device, args, port, tmp):
    """Median metrics per variant; variants interleaved, order reversed every other repeat."""
    runs = {name: [] for name in VARIANTS if args.quick is False or "live" not in VARIANTS[name]}
    for repeat in range(args.repeats):
        names = list(runs) if repeat % 2 == 0 else list(reversed(runs))
        for name in names:
            metrics = run_runner(device, VARIANTS[name], args, port, tmp, f"{device.type}-{repeat}-{len(runs[name])}")
            runs[name].append(metrics)
            print(f"{device} {name}: {metrics['seconds_per_epoch']:.4f} s/epoch, run {metrics['run_seconds']:.2f} s, "
                  f"accuracy {100 * metrics['test_accuracy']:.2f} %", flush=True)
    return {name: {key: statistics.median(m[key] for m in ms)
                   for key in ("seconds_per_epoch", "samples_per_second", "run_seconds", "compile_seconds",
                               "test_accuracy")} for name, ms in runs.items()}


def print_runner_table(results, args, load_before):
    print(f"\nmnist_mlp runner, sound preset, {args.runner_epochs} epochs, medians of {args.repeats} runs per variant; "
          f"load average {load_before:.2f} before, {os.getloadavg()[0]:.2f} after, {os.cpu_count()} cores\n")
    print("| device | variant | train s/epoch | samples/s | whole run s (eval + logging) | compile s | test acc "
          "| vs eager (s/epoch) | logging every step vs --no-visdom |")
    print("|---|---|---|---|---|---|---|---|---|")
    for device, rows in results.items():
        for name, r in rows.items():
            base = rows["compiled" if name.startswith("compiled") else "eager"]  # live vs --no-visdom
            cost = (f"{100 * (r['seconds_per_epoch'] / base['seconds_per_epoch'] - 1):+.1f} % s/epoch, "
                    f"{100 * (r['run_seconds'] / base['run_seconds'] - 1):+.1f} % run" if "live" in name else "")
            print(f"| {device} | {name} | {r['seconds_per_epoch']:.4f} | {r['samples_per_second']:,.0f} "
                  f"| {r['run_seconds']:.2f} | {r['compile_seconds']:.1f} | {100 * r['test_accuracy']:.2f} % "
                  f"| {rows['eager']['seconds_per_epoch'] / r['seconds_per_epoch']:.2f}x | {cost} |")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--epochs", type=int, default=2, help="training epochs per pipeline")
    parser.add_argument("--batch-size", type=int, default=200, help="batch size")
    parser.add_argument("--seed", type=int, default=0, help="random seed (model init and shuffling)")
    parser.add_argument("--data-dir", default=default_data_dir(), help="folder holding MNIST/raw/")
    parser.add_argument("--cpu-only", action="store_true", help="skip the GPU even when there is one")
    parser.add_argument("--skip-pipelines", action="store_true", help="skip the tutorial vs fast path table")
    parser.add_argument("--skip-runner", action="store_true", help="skip the eager/compiled/logging table")
    parser.add_argument("--runner-epochs", type=int, default=10, help="epochs per runner process")
    parser.add_argument("--repeats", type=int, default=3, help="runner processes per variant and device")
    parser.add_argument("--quick", action="store_true", help="runner table without the live-server variants")
    parser.add_argument("--runner-devices", default=None,
                        help="comma-separated devices for the runner table (None: every available one)")
    args = parser.parse_args(argv)

    devices = [torch.device("cpu")]
    if torch.cuda.is_available() and not args.cpu_only:
        devices.append(torch.device("cuda"))
    if not args.skip_runner:
        load_before = os.getloadavg()[0]
        runner_devices = [torch.device(d) for d in args.runner_devices.split(",")] if args.runner_devices else devices
        with tempfile.TemporaryDirectory() as tmp, VisdomServer() as server:
            results = {str(d): compare_runner(d, args, server.port, tmp) for d in runner_devices}
        print_runner_table(results, args, load_before)
    if args.skip_pipelines:
        return results
    rows = []
    for device in devices:
        tutorial, fast = compare({
            "tutorial: DataLoader + ToTensor/Normalize": tutorial_batches(args.data_dir, args.batch_size, args.seed),
            "vizlab fast path: tensors on the device": fast_batches(args.data_dir, args.batch_size, args.seed, device),
        }, device, args.epochs, args.seed)
        fast["speedup"] = tutorial["seconds_per_epoch"] / fast["seconds_per_epoch"]
        rows += [tutorial, fast]

    print(f"\nMNIST MLP 784-200-200-10, SGD lr 0.1 momentum 0.9, batch {args.batch_size}, "
          f"{args.epochs} epochs, seed {args.seed}, torch {torch.__version__}, {torch.get_num_threads()} CPU threads\n")
    print(f"| device | pipeline | train s/epoch | samples/s | eval s | test acc after {args.epochs} epochs "
          "| speed-up (s/epoch) |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        speedup = f"{r['speedup']:.1f}x" if "speedup" in r else "1.0x (baseline)"
        print(f"| {r['device']} | {r['pipeline']} | {r['seconds_per_epoch']:.2f} | {r['samples_per_second']:,.0f} "
              f"| {r['eval_seconds']:.2f} | {100 * r['test_accuracy']:.2f} % | {speedup} |")
    return rows


if __name__ == "__main__":
    main()
