"""Call-site checks of VisdomLogger's arguments: bad input raises here, in the caller's frame,
with a message naming the argument and what to do; values are copied so later changes don't leak in.
"""

import math
import numbers as _numbers
import re
import sys
from decimal import Decimal

import numpy as np
import torch

from vizlab.palette import DASHES

LINE_OPTS = {"title": str, "xlabel": str, "ylabel": str, "xtype": str, "ytype": str,
             "xtickmin": _numbers.Real, "xtickmax": _numbers.Real, "ytickmin": _numbers.Real,
             "ytickmax": _numbers.Real, "legend": (bool, list, tuple), "showlegend": bool,
             "width": _numbers.Real, "height": _numbers.Real, "markers": bool,
             "markersize": _numbers.Real, "fillarea": bool, "webgl": bool, "layoutopts": dict,
             "marginleft": _numbers.Real, "marginright": _numbers.Real,
             "margintop": _numbers.Real, "marginbottom": _numbers.Real,
             "linecolor": (str, list, tuple, np.ndarray, dict), "dash": (str, list, tuple, np.ndarray, dict)}
PANE_OPTS = {"title": str, "width": _numbers.Real, "height": _numbers.Real}
IMAGE_OPTS = dict(PANE_OPTS, caption=str, history=_numbers.Integral)   # history=N: vizlab.image_history
KINDS = {"line": LINE_OPTS, "images": IMAGE_OPTS, "text": PANE_OPTS, "figure": PANE_OPTS}
HEX_COLOR = re.compile(r"#[0-9a-fA-F]{6}")
PLAIN_NUMBERS = (int, float)
FLOAT_MAX = sys.float_info.max   # an x beyond it (10**400) cannot be drawn or compared as a float
MAX_DEPTH = 64                   # nesting of figure data and options (Plotly's is a few levels)


def check_trace(name):
    if not isinstance(name, str) or not name:
        raise TypeError(f"trace names must be non-empty strings, got {name!r}")
    return name


def readable(arg, tensor):
    """The tensor, if it has values to read: a meta tensor has only a shape, so it is refused here
    rather than dropped later by the journal thread."""
    if tensor.is_meta:
        raise ValueError(f"{arg}: a meta tensor (device='meta') has no values to log; log a tensor "
                         "that holds data (on the CPU or a GPU)")
    return tensor


def scalar_value(arg, value):
    """Validate one number without reading a tensor's value (no device sync on this thread);
    an x must be finite and within float range, whatever type it came as."""
    if type(value) in PLAIN_NUMBERS:
        return _x(value) if arg == "x" else value
    if isinstance(value, torch.Tensor):
        readable(arg, value)
        if value.numel() != 1 or value.is_complex():
            raise ValueError(f"{arg}: expected a number or one-element tensor, got a tensor of "
                             f"shape {tuple(value.shape)}")
        if type(value) is torch.Tensor and value.is_cpu:
            # no device to wait for: reading is cheaper than a snapshot
            return _x(value.item()) if arg == "x" else value.item()
        # clone: a snapshot (no device sync here), so a later in-place update cannot change it;
        # the journal thread reads it and drops that one call if an x is not finite
        return value.detach().clone()
    if isinstance(value, (np.generic, np.ndarray)) and value.size == 1 and value.dtype.kind in "iuf":
        value = value.item()
    elif isinstance(value, (_numbers.Real, Decimal)) and not isinstance(value, bool):
        value = float(value)
    else:
        raise TypeError(f"{arg}: expected a number (int, float, NumPy number or one-element tensor), "
                        f"got {type(value).__name__}")
    return _x(value) if arg == "x" else value


def _x(x):
    if not -FLOAT_MAX <= x <= FLOAT_MAX:
        raise ValueError(f"x={short(x)}: x must be a finite number within float range (a step, "
                         "an epoch or a time)")
    return x


def sequence(arg, values, length=None):
    """A 1-D sequence of numbers (list, array, tensor), copied so later changes don't leak in."""
    if isinstance(values, torch.Tensor):
        values = readable(arg, values).detach().clone()
    elif isinstance(values, (list, tuple, np.ndarray)):
        values = np.array(values, copy=True) if len(values) else np.zeros(0)
    else:
        raise TypeError(f"{arg} must be a list, array or tensor of numbers, got {type(values).__name__}")
    if isinstance(values, np.ndarray) and values.dtype.kind not in "iuf":
        raise TypeError(f"{arg} must hold numbers, got {values.dtype} values")
    if values.ndim != 1 or len(values) == 0:
        raise ValueError(f"{arg} must be one-dimensional and non-empty, got shape {tuple(values.shape)}")
    if length is not None and len(values) != length:
        raise ValueError(f"{arg} has {len(values)} values but x has {length}")
    if arg == "x" and (isinstance(values, np.ndarray) or values.is_cpu) and \
            not bool((np if isinstance(values, np.ndarray) else torch).isfinite(values).all()):
        raise ValueError("x must hold finite numbers only (NaN or Inf found); a gap goes in ys")
    return values


def label_list(arg, labels, n):
    if labels is None:
        return None
    if isinstance(labels, torch.Tensor):
        labels = readable(arg, labels).detach().clone().reshape(-1)
    elif isinstance(labels, (list, tuple, np.ndarray)):
        labels = labels.reshape(-1).tolist() if isinstance(labels, np.ndarray) else list(labels)
    else:
        raise TypeError(f"{arg} must be a sequence or tensor with one entry per image, got {type(labels).__name__}")
    if len(labels) != n:
        raise ValueError(f"{arg} has {len(labels)} entries but there are {n} images")
    return labels


def norm_stats(arg, value, channels):
    if value is None:
        return None
    values = np.asarray(value, dtype=float).reshape(-1)
    if len(values) not in (1, channels) or not np.isfinite(values).all():
        raise ValueError(f"{arg}={value!r}: give one finite number or one per channel ({channels})")
    if arg == "std" and (values <= 0).any():
        raise ValueError(f"std={value!r}: must be positive")
    return values.tolist()


def check_opts(opts, allowed, traces=None):
    """Unknown opts or wrong types raise here, at the call site, naming the option; the values
    come back JSON-safe (NumPy, tensors and Decimal as Python numbers), so nothing a background
    thread writes can fail on them."""
    opts = {key: option_value(key, value, allowed) for key, value in opts.items()}
    for axis in ("xtype", "ytype"):
        if opts.get(axis, "linear") not in ("linear", "log"):
            raise ValueError(f"option {axis}={opts[axis]!r}: use 'linear' or 'log'")
    legend = opts.get("legend")
    if isinstance(legend, (list, tuple)):
        if traces is not None and sorted(map(str, legend)) != sorted(traces):
            raise ValueError(f"legend={list(legend)!r} does not match the trace names {sorted(traces)}; "
                             "traces are named by trace=/the dict keys, legend=True/False shows/hides them")
        opts = dict(opts, legend=True)
    if "legend" in opts:
        opts = dict(opts, showlegend=opts.pop("legend"))
    if "linecolor" in opts or "dash" in opts:
        opts = trace_styles(opts, list(traces or ()))
    return opts


def option_value(key, value, allowed):
    """One option's value, type-checked and made JSON-safe."""
    kind = allowed.get(key)
    if kind is None:
        raise ValueError(f"unknown option {key}=...; supported here: {', '.join(sorted(allowed))}")
    if isinstance(value, np.bool_) and (kind is bool or kind == (bool, list, tuple)):
        return bool(value)
    if kind is _numbers.Real:
        return real_option(key, value)
    if not isinstance(value, kind):
        raise TypeError(f"option {key}={value!r:.80} has the wrong type")
    if kind is str:
        return str(value)
    if kind is dict:
        return plain(f"option {key}", value, gaps=False)
    return value


def real_option(key, value):
    """A numeric option (width, ytickmax, ...) -> a finite Python int or float."""
    if isinstance(value, torch.Tensor) and value.numel() == 1 and not value.is_complex():
        value = readable(f"option {key}", value).item()
    elif isinstance(value, (np.generic, np.ndarray)) and value.size == 1 and value.dtype.kind in "iuf":
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, (_numbers.Real, Decimal)):
        raise TypeError(f"option {key}={value!r:.80} has the wrong type: use a number")
    if not isinstance(value, int):
        value = float(value)
    if not -FLOAT_MAX <= value <= FLOAT_MAX:
        raise ValueError(f"option {key}={value!r:.40}: use a finite number")
    return value


def trace_styles(opts, traces):
    """linecolor (RGB triples or '#rrggbb') and dash, one per trace of this call in order, one for
    all, or a dict {trace: style} -> {trace: '#rrggbb'} and {trace: 'dash'}, so that a later call
    can style another trace."""
    opts = dict(opts)
    for key, one in (("linecolor", _color), ("dash", _dash)):
        if key not in opts:
            continue
        value = opts[key]
        if isinstance(value, dict):
            names, values = list(value), list(value.values())
        else:
            names = traces
            single = isinstance(value, str) or (key == "linecolor" and np.shape(value) == (3,)
                                                and not isinstance(value[0], str))
            values = [value] * len(traces) if single else list(value)
        if not names or len(values) != len(names):
            raise ValueError(f"option {key}={value!r}: give one for all traces, one per trace "
                             f"({len(traces)}: {', '.join(traces)}) or a dict {{trace: {key}}}")
        opts[key] = {check_trace(n): one(v, value) for n, v in zip(names, values)}
    return opts


def _color(color, given):
    if isinstance(color, str) and HEX_COLOR.fullmatch(color):
        return color.lower()
    rgb = np.asarray(color) if not isinstance(color, str) else None
    if rgb is None or rgb.shape != (3,) or rgb.dtype.kind not in "iuf" or \
            not ((rgb >= 0) & (rgb <= 255) & (rgb == np.floor(rgb))).all():
        raise ValueError(f"option linecolor={given!r}: colours are '#rrggbb' or RGB triples of "
                         "integers 0-255, e.g. (255, 0, 0); vizlab.palette has the shared ones")
    return "#%02x%02x%02x" % tuple(int(c) for c in rgb)


def _dash(dash, given):
    if dash not in DASHES:
        raise ValueError(f"option dash={given!r}: use {', '.join(map(repr, DASHES))}")
    return dash


def short(value):
    text = repr(value)
    return text if len(text) <= 40 else f"{text[:20]}...({len(text)} characters)"


def plain(arg, value, gaps=True, depth=0):
    """JSON-ready copy of Plotly data: arrays/tensors/Decimal -> lists and numbers, NaN/Inf -> None
    (a gap; with gaps=False a ValueError); deeper than MAX_DEPTH (a cycle?) is a ValueError."""
    if depth > MAX_DEPTH:
        raise ValueError(f"{arg}: nested deeper than {MAX_DEPTH} levels (a list or dict that "
                         "contains itself?); Plotly data is a few levels deep")
    if isinstance(value, dict):
        return {str(k): plain(arg, v, gaps, depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(arg, v, gaps, depth + 1) for v in value]
    if isinstance(value, torch.Tensor):
        return plain(arg, readable(arg, value).detach().cpu().tolist(), gaps, depth + 1)
    if isinstance(value, (np.ndarray, np.generic)):
        return plain(arg, value.tolist(), gaps, depth + 1)
    if isinstance(value, Decimal):
        value = float(value)
    if isinstance(value, float) and not math.isfinite(value):
        if gaps:
            return None
        raise ValueError(f"{arg}: {value} is not a finite number")
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    raise TypeError(f"{arg}: {type(value).__name__} is not JSON data (use numbers, strings, lists, dicts)")
