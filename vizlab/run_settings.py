"""A run's settings: one record in the journal, one settings pane on the page.

VisdomLogger(config=...), the runners (runner_kit.log_hparams), Lightning's log_hyperparams,
transformers' TrainingArguments and SummaryWriter.add_hparams all come here. The settings are
made plain once, on the caller's thread (NumPy and tensor scalars become numbers, Paths, enums and
devices text; nested dicts are flattened to "outer.inner" keys), bounded, and queued as one
"settings" record; the journal thread writes it and the window model draws the pane from it
(vizlab.settings_table), so replay and `vizlab compare` read the same settings back.
"""

import argparse
import collections.abc
import dataclasses
import enum
import math
import os
import re
import sys
from decimal import Decimal

import numpy as np


MAX_SETTINGS = 200    # settings kept per record; the rest are counted ("omitted")
MAX_KEY = 100         # characters of a key
MAX_TEXT = 200        # characters of a value shown as text
MAX_ITEMS = 16        # elements of a list, array or tensor shown whole; more: its shape
MAX_DEPTH = 8         # levels of nesting flattened; deeper is shown as text
LEAVES = {str, int, float, bool, type(None)}   # never walked into (the common case, quickly)
ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")   # repr()'s address differs from run to run


def is_tensor(value):
    """A torch tensor, without importing torch (this module is read by commands that never load it)."""
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(value, torch.Tensor)


def as_dict(config, arg="config"):
    """A dict (any mapping), argparse Namespace or dataclass instance -> a dict; anything else:
    a TypeError saying what to pass."""
    mapping = _mapping(config)
    if mapping is None:
        raise TypeError(f"{arg}= takes a dict, an argparse Namespace or a dataclass instance (the run's "
                        f"settings, e.g. {arg}={{'lr': 0.01, 'batch_size': 64}}), got {type(config).__name__}")
    return mapping


def _mapping(value):
    if isinstance(value, collections.abc.Mapping):
        return value
    if isinstance(value, argparse.Namespace):
        return vars(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
    return None


def plain_settings(config, arg="config"):
    """{flat key: JSON value} of at most MAX_SETTINGS settings, and how many more there were."""
    leaves = _leaves(as_dict(config, arg), "", 0)
    values = {}
    for key, value in leaves:
        if len(values) == MAX_SETTINGS:
            return values, 1 + sum(1 for _ in leaves)
        values[cut(key, MAX_KEY)] = plain_value(value)
    return values, 0


def _leaves(mapping, prefix, depth):
    """(dotted key, value) of every leaf, nested dicts/Namespaces/dataclasses walked into."""
    for key, value in mapping.items():
        key = f"{prefix}{key}"
        nested = None if type(value) in LEAVES or depth >= MAX_DEPTH else _mapping(value)
        if nested:
            yield from _leaves(nested, key + ".", depth + 1)
        else:
            yield key, value


def plain_value(value):
    """One setting as a JSON value: a number, bool, None or (bounded) text."""
    if isinstance(value, enum.Enum):          # before int and str: IntEnum, StrEnum
        return value.value if isinstance(value.value, str) else value.name   # "steps", "ADAM"
    if isinstance(value, (np.generic, np.ndarray)) or is_tensor(value):   # np.float64 is a float
        return _array(value)
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, str):
        return cut(value, MAX_TEXT)
    if isinstance(value, float):
        return float(value) if math.isfinite(value) else str(value)
    if isinstance(value, Decimal):
        return plain_value(float(value))
    if isinstance(value, os.PathLike):
        return cut(os.fspath(value), MAX_TEXT)
    if isinstance(value, (list, tuple, set, frozenset)):
        items = sorted(value, key=str) if isinstance(value, (set, frozenset)) else value
        return cut("[" + ", ".join(str(plain_value(v)) for v in list(items)[:MAX_ITEMS + 1]) + "]", MAX_TEXT)
    if isinstance(value, type) or callable(value) and hasattr(value, "__name__"):
        return value.__name__   # a class or function (activation=nn.ReLU): its name, not its address
    try:
        text = str(value)
    except Exception:   # a setting that cannot say what it is must not stop the run
        text = f"<{type(value).__name__}>"
    return cut(ADDRESS.sub("", text), MAX_TEXT)


def _array(value):
    """A NumPy/tensor value: one element as a number, a few as a list, more as their shape."""
    if is_tensor(value):
        value = value.detach()
        if value.numel() > MAX_ITEMS:
            return f"tensor of shape {tuple(value.shape)} ({value.dtype})"
        if value.is_floating_point() and value.dtype.itemsize < 4:
            value = value.float()   # NumPy has no bfloat16
        value = value.cpu().numpy()
    value = np.asarray(value)
    if value.size > MAX_ITEMS:
        return f"array of shape {value.shape} ({value.dtype})"
    if value.dtype.kind == "f" and value.dtype.itemsize < 8:   # float32 0.01 is 0.01, not 0.00999...
        value = np.array([float(str(v)) for v in value.reshape(-1)]).reshape(value.shape)
    if value.ndim == 0:
        return plain_value(value.item())
    return plain_value(value.tolist())


def cut(text, limit):
    text = str(text)
    return text if len(text) <= limit else text[:limit - 1] + "…"


def entry(config, results=None):
    """The settings record's content for `config` (results: figures shown below the settings,
    not read as settings)."""
    values, omitted = plain_settings(config)
    out = {"values": values}
    if omitted:
        out["omitted"] = omitted
    if results:
        out["results"] = plain_settings(results, "results")[0]
    return out


def entry_of(record):
    """What VisdomLogger.settings() compares: a settings record without its op, window and options."""
    return {key: record[key] for key in ("values", "omitted", "results") if key in record}


def recorded(record):
    """{key: the text the pane shows} of a settings record (what `vizlab compare` compares)."""
    return {key: str(value) for key, value in record["values"].items()}
