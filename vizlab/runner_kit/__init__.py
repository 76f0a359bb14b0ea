"""What every runner's main needs: its options, device and seed, the logger, and the shared ending.

The distributed (torchrun) helpers are in vizlab.runner_kit.distributed.
"""

import argparse
import json
import math
import os
import random
import sys
import time

import numpy as np
import torch
from tqdm import tqdm

from vizlab.address import add_address_options
from vizlab.helptext import DefaultsOnce
from vizlab.logger import VisdomLogger
from vizlab.logger import summary as logger_summary


TRAINS_NOTHING = object()   # runner_parser(epochs=TRAINS_NOTHING): no --epochs and no --lr


def runner_parser(name, description, epochs, lr=None, lr_help="learning rate", epochs_help="training epochs"):
    """argparse parser with the options every runner has; add runner-specific ones to it.

    `epochs_help`/`lr_help` let a runner say what the numbers mean for it (steps); a runner where
    nothing trains passes epochs=TRAINS_NOTHING and is offered neither option.
    """
    p = RunnerParser(prog=name, description=description, formatter_class=DefaultsOnce)
    if epochs is not TRAINS_NOTHING:
        p.add_argument("--epochs", type=positive_int, default=epochs, help=epochs_help)
        p.add_argument("--lr", type=positive_float, default=lr, help=lr_help)
        p.add_argument("--pace", type=positive_float, default=None, metavar="SECONDS",
                       help="spread each progress-bar loop (the run; an epoch for the MNIST runners) "
                            "over at least SECONDS, to watch it live; `vizlab demo` paces the quick ones")
    p.add_argument("--seed", type=seed_number, default=0, help="random seed")
    p.add_argument("--device", default="auto", help="auto|cpu|cuda|cuda:N (auto picks CUDA when available)")
    p.add_argument("--env", default=name, help="Visdom environment")
    add_address_options(p)
    p.add_argument("--journal", default=None, help="JSONL journal path (None: runs/<env>-<time>.jsonl)")
    p.add_argument("--no-visdom", action="store_true", help="do not contact a server; write the journal only")
    p.add_argument("--metrics-out", default=None, help="write the final figures as JSON to this file")
    p.add_argument("--quiet", action="store_true", help="no progress bar and no per-epoch lines")
    return p


class RunnerParser(argparse.ArgumentParser):
    """A runner's parser: --port is checked with the rest (a run would otherwise log to no server)."""

    def parse_args(self, args=None, namespace=None):
        parsed = super().parse_args(args, namespace)
        if not 1 <= parsed.port <= 65535:
            self.error(f"argument --port: a port is a number from 1 to 65535, got {parsed.port}")
        return parsed


def add_log_every(parser, default, help):
    """The one --log-every option: a positive integer, so a loop's `step % log_every` is safe."""
    parser.add_argument("--log-every", type=positive_int, default=default, help=help)


def positive_int(text):
    value = _whole(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return value


def _whole(text):
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number, got {text!r}") from None


def positive_float(text):
    """A finite number > 0 (a learning rate): argparse says what is wrong, in one line."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number, got {text!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text}")
    return value


def seed_number(text):
    """What NumPy's, Python's and torch's seeding all take: 0 to 2**32 - 1."""
    value = _whole(text)
    if not 0 <= value < 2 ** 32:
        raise argparse.ArgumentTypeError(f"must be between 0 and 4294967295, got {text}")
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
    """The run's VisdomLogger, configured from the common options. Every training runner's x runs
    to --epochs (in epochs or steps): the status pane's progress bar ends there."""
    kwargs.setdefault("total_steps", getattr(args, "epochs", None))
    return VisdomLogger(env=args.env, server=args.server, port=args.port,
                        journal=args.journal, send=not args.no_visdom, **kwargs)


def write_metrics(path, metrics):
    if path:
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        with open(path, "w") as f:
            json.dump(metrics, f, indent=2)


def progress(iterable, args, disable=False, **kwargs):
    """tqdm bar, off with --quiet or when stderr is not a terminal (or when `disable`); with
    --pace, the loop lasts at least that many seconds."""
    pace = getattr(args, "pace", None)
    if pace and hasattr(iterable, "__len__") and len(iterable):
        kwargs.setdefault("total", len(iterable))
        iterable = _paced(iterable, pace, len(iterable))
    return tqdm(iterable, disable=disable or args.quiet or not sys.stderr.isatty(), **kwargs)


def _paced(iterable, seconds, total):
    """Each item no earlier than its share of `seconds` from the start (the work counts)."""
    start = time.monotonic()
    for done, item in enumerate(iterable, 1):
        yield item
        time.sleep(max(0.0, start + seconds * done / total - time.monotonic()))


def finish(name, args, metrics, summary, log=None):
    """Every runner's ending: metrics JSON (--metrics-out) and one line of results (the logger's
    own closing line, just before, says where to watch and what reached the journal and the
    server). A run whose journal lost calls exits with status 1 (`vizlab run`/`demo` fail too)."""
    write_metrics(args.metrics_out, metrics)
    print(f"{name}: {summary}", flush=True)
    lost = logger_summary.lost(log.stats) if log is not None else 0
    if lost:
        raise SystemExit(f"{name}: {lost} of {log.stats['accepted']} logged calls are missing from "
                         "the journal (see the closing line above); exit status 1")
    return metrics


# Where and how a run logs, not what it trains: left out of the settings pane (the page already
# shows its env and server, and a journal path would overflow the pane).
PLUMBING = ("env", "server", "port", "journal", "no_visdom", "metrics_out", "quiet", "pace", "data_dir",
            "checkpoint", "resume")


def log_hparams(log, args, **extra):
    """The run's training settings as a table in window `hparams`, the pane sized to fit it.

    `extra` adds or replaces rows, e.g. device=the device actually used instead of 'auto'.
    """
    rows = {k: v for k, v in vars(args).items() if k not in PLUMBING}
    rows.update(extra)
    log.settings(rows, win="hparams")
