"""A training loop of one's own, streaming to Visdom: an MNIST MLP with a DataLoader.

    vizlab serve --detach            # or: python -m visdom.server
    python examples/own_loop.py --epochs 2
    # watch http://localhost:8097/env/my_mnist
"""

import argparse

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader, Subset
from torchvision import transforms

from vizlab import VisdomLogger
from vizlab.runner_kit.data import default_data_dir, mnist_datasets   # works offline, read-only files too


def parse_args(argv=None):
    p = argparse.ArgumentParser(description="An MNIST MLP of one's own, logged with VisdomLogger.")
    p.add_argument("--epochs", type=int, default=2, help="training epochs (default: 2)")
    p.add_argument("--lr", type=float, default=0.1, help="SGD learning rate (default: 0.1)")
    p.add_argument("--batch-size", type=int, default=64, help="training batch size (default: 64)")
    p.add_argument("--subset", type=int, default=None, help="train on the first N images (default: all)")
    p.add_argument("--data-dir", default=default_data_dir(), help="folder holding MNIST/raw/ (default: %(default)s)")
    p.add_argument("--env", default="my_mnist", help="Visdom environment (default: my_mnist)")
    p.add_argument("--port", type=int, default=None, help="Visdom port (default: $VISDOM_PORT, else 8097)")
    p.add_argument("--journal", default=None, help="journal path (default: runs/<env>-<time>.jsonl)")
    return p.parse_args(argv)


@torch.no_grad()
def evaluate(model, test):
    """Test accuracy (%), and the last batch with its predictions (for the samples grid)."""
    model.eval()
    correct = 0
    for x, y in test:
        predicted = model(x).argmax(1)
        correct += (predicted == y).sum().item()
    model.train()
    return 100.0 * correct / len(test.dataset), (x, y, predicted)


def main(argv=None):
    args = parse_args(argv)
    torch.manual_seed(0)
    # 1. Data
    to_tensor = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.1307,), (0.3081,))])
    train_set, test_set = mnist_datasets(args.data_dir, to_tensor)
    if args.subset:
        train_set = Subset(train_set, range(args.subset))
    train = DataLoader(train_set, batch_size=args.batch_size, shuffle=True)
    test = DataLoader(test_set, batch_size=1000)
    # 2. Model
    model = nn.Sequential(nn.Flatten(), nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10))
    # 3. Loss and optimizer
    optimizer = torch.optim.SGD(model.parameters(), lr=args.lr)
    # 4. Train loop; config= records the settings (not where the run logs: env, port, journal)
    config = {k: v for k, v in vars(args).items() if k not in ("env", "port", "journal", "data_dir")}
    with VisdomLogger(env=args.env, port=args.port, journal=args.journal, config=config,
                      total_steps=args.epochs * len(train)) as log:
        log.window("loss", ytype="log")
        log.window("accuracy", xlabel="epoch")
        step = 0
        for epoch in range(1, args.epochs + 1):
            for x, y in train:
                loss = F.cross_entropy(model(x), y)
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                step += 1
                log.scalar("loss", step, loss, trace="train")     # a 0-d tensor, on any device
            accuracy, (x, y, predicted) = evaluate(model, test)
            log.scalar("accuracy", epoch, accuracy, trace="val")
            log.images("samples", x[:32], labels=y[:32], preds=predicted[:32], mean=0.1307, std=0.3081)
            print(f"epoch {epoch}: test accuracy {accuracy:.2f} %")


if __name__ == "__main__":
    main()
