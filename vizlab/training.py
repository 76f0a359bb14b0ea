"""What every runner shares: its common options, device choice, seeding, logger and metrics."""

import argparse
import html
import json
import os
import random
import sys

import numpy as np
import torch
from tqdm import tqdm

from vizlab.logger import VisdomLogger


# --epochs/--lr help of runners that train nothing (they accept them so every runner takes the same options).
NOT_USED = "not used: nothing trains here"


def runner_parser(name, description, epochs, lr, lr_help="learning rate", epochs_help="training epochs"):
    """argparse parser with the options every runner has; add runner-specific ones to it.

    `epochs_help`/`lr_help` let a runner say what the numbers mean for it (steps, or nothing).
    """
    p = argparse.ArgumentParser(prog=name, description=description,
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--epochs", type=positive_int, default=epochs, help=epochs_help)
    p.add_argument("--lr", type=float, default=lr, help=lr_help)
    p.add_argument("--seed", type=int, default=0, help="random seed")
    p.add_argument("--device", default="auto", help="auto|cpu|cuda|cuda:N (auto picks CUDA when available)")
    p.add_argument("--env", default=name, help="Visdom environment")
    p.add_argument("--server", default="http://127.0.0.1", help="Visdom server URL")
    p.add_argument("--port", type=int, default=8097, help="Visdom server port")
    p.add_argument("--journal", default=None, help="JSONL journal path (None: runs/<env>-<time>.jsonl)")
    p.add_argument("--no-visdom", action="store_true", help="do not contact a server; write the journal only")
    p.add_argument("--metrics-out", default=None, help="write the final figures as JSON to this file")
    p.add_argument("--quiet", action="store_true", help="no progress bar and no per-epoch lines")
    return p


def positive_int(text):
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


def progress(iterable, args, disable=False, **kwargs):
    """tqdm bar, off with --quiet or when stderr is not a terminal (or when `disable`)."""
    return tqdm(iterable, disable=disable or args.quiet or not sys.stderr.isatty(), **kwargs)


def env_url(args):
    """Where the run's windows can be watched."""
    if args.no_visdom:
        return "none sent (--no-visdom); `vizlab replay` the journal printed above"
    return f"{args.server.rstrip('/')}:{args.port}/env/{args.env}"


# Where and how a run logs, not what it trains: left out of the settings pane (the page already
# shows its env and server, and a journal path would overflow the pane).
PLUMBING = ("env", "server", "port", "journal", "no_visdom", "metrics_out", "quiet", "data_dir")


def log_hparams(log, args, **extra):
    """The run's training settings as a table in window `hparams`, the pane sized to fit it.

    `extra` adds or replaces rows, e.g. device=the device actually used instead of 'auto'.
    """
    rows = {k: v for k, v in vars(args).items() if k not in PLUMBING}
    rows.update(extra)
    cells = "".join(f"<tr><td style='padding-right:12px'><b>{html.escape(k)}</b></td>"
                    f"<td>{html.escape(str(v))}</td></tr>" for k, v in rows.items())
    # Visdom's text pane: about 8 px a character, 20 px a row, plus its title bar.
    chars = max(len(k) + len(str(v)) for k, v in rows.items())
    log.text("hparams", f"<table>{cells}</table>", title="settings",
             width=min(420, 40 + 8 * chars), height=30 + 20 * len(rows))


def init_distributed(device_spec, parser=None):
    """(rank, world_size, device); joins the process group when started by torchrun.

    Under torchrun every process trains on its own device (cuda:LOCAL_RANK when CUDA is there)
    and talks over nccl on GPUs, gloo on CPUs. Without torchrun: (0, 1, pick_device(...)).
    """
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    # Under torchrun even one process joins the group, so `--nproc_per_node=1` tests the nccl/gloo set-up.
    if world_size == 1 and "TORCHELASTIC_RUN_ID" not in os.environ:
        return 0, 1, pick_device(device_spec, parser)
    import torch.distributed as dist

    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    device = pick_device(device_spec, parser)
    if device.type == "cuda":
        device = torch.device("cuda", local_rank)
        torch.cuda.set_device(device)
    if not dist.is_initialized():
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    return dist.get_rank(), world_size, device


def rank_zero_first(fn, rank, world_size):
    """fn() on rank 0, then on the other ranks: one process downloads or extracts, the rest reuse it.

    An exception on rank 0 is raised on every rank, so no rank waits forever for a failed one.
    """
    if world_size == 1:
        return fn()
    import torch.distributed as dist

    result, error = None, [None]
    if rank == 0:
        try:
            result = fn()
        except Exception as exc:  # handed to every rank below
            error = [exc]
    dist.broadcast_object_list(error, src=0)
    if error[0] is not None:
        raise error[0]
    return result if rank == 0 else fn()


def all_reduce_sum(tensor, world_size):
    """Sum `tensor` over all ranks, in place (a no-op in a single process)."""
    if world_size > 1:
        import torch.distributed as dist

        dist.all_reduce(tensor)
    return tensor
