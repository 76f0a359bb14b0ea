"""What every runner shares: its common options, device choice, seeding, logger and metrics."""

import argparse
import json
import os
import random
import sys

import numpy as np
import torch
from tqdm import tqdm

from vizlab.logger import VisdomLogger


def runner_parser(name, description, epochs, lr):
    """argparse parser with the options every runner has; add runner-specific ones to it."""
    p = argparse.ArgumentParser(prog=name, description=description,
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--epochs", type=_positive_int, default=epochs, help="training epochs")
    p.add_argument("--lr", type=float, default=lr, help="learning rate")
    p.add_argument("--seed", type=int, default=0, help="random seed")
    p.add_argument("--device", default="auto", help="auto|cpu|cuda|cuda:N (auto picks CUDA when available)")
    p.add_argument("--env", default=name, help="Visdom environment")
    p.add_argument("--server", default="http://127.0.0.1", help="Visdom server URL")
    p.add_argument("--port", type=int, default=8097, help="Visdom server port")
    p.add_argument("--journal", default=None, help="JSONL journal path (default: runs/<env>-<time>.jsonl)")
    p.add_argument("--no-visdom", action="store_true", help="do not contact a server; write the journal only")
    p.add_argument("--metrics-out", default=None, help="write the final figures as JSON to this file")
    p.add_argument("--quiet", action="store_true", help="no progress bar and no per-epoch lines")
    return p


def _positive_int(text):
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return value


def pick_device(spec, parser=None):
    """torch.device for 'auto'|'cpu'|'cuda'|'cuda:N'; a clear parser error when CUDA is missing."""
    if spec == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(spec)
    except RuntimeError:
        _fail(parser, f"--device: unknown device {spec!r}; use auto, cpu, cuda or cuda:N")
    if device.type == "cuda" and not torch.cuda.is_available():
        _fail(parser, f"--device {spec}: CUDA is not available on this machine; use --device cpu or auto")
    if device.type == "cuda" and device.index is not None and device.index >= torch.cuda.device_count():
        _fail(parser, f"--device {spec}: only {torch.cuda.device_count()} CUDA device(s) here")
    return device


def _fail(parser, message):
    if parser is not None:
        parser.error(message)
    raise ValueError(message)


def seed_everything(seed):
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def open_logger(args, **kwargs):
    """The run's VisdomLogger, configured from the common options."""
    return VisdomLogger(env=args.env, server=args.server, port=args.port,
                        journal=args.journal, send=not args.no_visdom, **kwargs)


def write_metrics(path, metrics):
    if path:
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        with open(path, "w") as f:
            json.dump(metrics, f, indent=2)


def progress(iterable, args, **kwargs):
    """tqdm bar, off with --quiet or when stderr is not a terminal."""
    return tqdm(iterable, disable=args.quiet or not sys.stderr.isatty(), **kwargs)
