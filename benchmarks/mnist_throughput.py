"""MNIST training throughput: the tutorial's DataLoader + ToTensor/Normalize pipeline vs vizlab's fast path.

Same model (the sound preset's MLP), same optimizer, same seed, same run (epochs alternate between
the two, so machine load hits both alike); the fast path holds the whole
data set as normalized tensors on the device and slices shuffled batches out of it. Prints a markdown
table with seconds per epoch, samples/s, evaluation time, test accuracy and the speed-up, on the CPU and,
when there is one, on the GPU.

    python benchmarks/mnist_throughput.py --epochs 2
"""

import argparse
import time

import torch
import torch.nn.functional as F

from vizlab.data import MNIST_MEAN, MNIST_STD, default_data_dir, load_mnist, mnist_datasets, shuffled_batches
from vizlab.models import MLP


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


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--epochs", type=int, default=2, help="training epochs per pipeline")
    parser.add_argument("--batch-size", type=int, default=200, help="batch size")
    parser.add_argument("--seed", type=int, default=0, help="random seed (model init and shuffling)")
    parser.add_argument("--data-dir", default=default_data_dir(), help="folder holding MNIST/raw/")
    parser.add_argument("--cpu-only", action="store_true", help="skip the GPU even when there is one")
    args = parser.parse_args(argv)

    devices = [torch.device("cpu")]
    if torch.cuda.is_available() and not args.cpu_only:
        devices.append(torch.device("cuda"))
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
