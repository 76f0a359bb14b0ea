"""Adapters that let existing training code (TensorBoard's SummaryWriter, Lightning, Hugging Face
Trainer) stream to Visdom through VisdomLogger. This package imports none of those frameworks;
each adapter module imports its own."""

import os

NUMBERS = (int, float)
# Seconds the end of training waits for delivery. Short, since nothing is lost by not waiting: the
# logger keeps sending, its journal has everything, and it closes (draining all) at exit.
END_WAIT = 2.0


def visdom_address(server=None, port=None):
    """server/port as given, else VISDOM_SERVER / VISDOM_PORT, else http://127.0.0.1:8097."""
    server = server or os.environ.get("VISDOM_SERVER") or "http://127.0.0.1"
    if "://" not in server:
        server = "http://" + server          # VISDOM_SERVER=localhost is common
    port = port or os.environ.get("VISDOM_PORT") or 8097
    try:
        port = int(port)
    except ValueError:
        raise ValueError(f"Visdom port {port!r} (VISDOM_PORT?) is not a number; use e.g. 8097") from None
    return server, port


def split_phase(name, phases):
    """'train_loss', 'train/loss' -> ('loss', 'train') when 'train' is in `phases`; else None."""
    for phase in phases:
        for sep in ("_", "/"):
            if name.startswith(phase + sep) and len(name) > len(phase) + 1:
                return name[len(phase) + 1:].replace("/", "_"), phase
    return None


def window_name(name):
    """A Visdom window id from any tag: '/' is not allowed there (ids end up in URLs and files)."""
    name = name.replace("/", "_").replace("\\", "_").replace("..", "_").strip()
    return name or "value"
