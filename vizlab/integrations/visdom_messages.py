"""What vizlab.Visdom needs to know about Visdom's client messages (pure, no I/O).

Visdom's client funnels every call through `_send(msg, endpoint)`. This module says which
messages write and to what (one window, or a whole env), what the server would have answered,
how two appends to one window fold into one request (the server's own append rule), and which
message stock Visdom sends when an append finds no window (`win_exists` said false). It also
builds the message of the hot call, `line(..., update='append')`, without Visdom's general path
(tests/test_visdom_client.py checks it equals Visdom's own message for many inputs).
"""

import json
import math
import sys

import numpy as np
import visdom
from visdom import _assert_opts, _opts2layout, _title2str

WINDOW = "window"     # acts on one window: events, update, close(win), set_window_data(win)
ENV = "env"           # acts on a whole env (close all, delete, save, fork, env creation)
READ = "read"         # asks the server something: answered synchronously, bounded
TRACE_OPTS = ("markercolor", "linecolor", "dash", "textlabels", "traceopts")   # only Visdom's path
PLAIN = (str, int, float, bool, type(None))
SCATTER_TYPES = ("scatter", "scattergl")
ENCODER = getattr(visdom, "NanSafeEncoder", None)   # visdom 0.3 sends NaN as null


def dumps(obj):
    return json.dumps(obj, cls=ENCODER, separators=(",", ":"))


def kind(endpoint, msg):
    """WINDOW, ENV or READ for one `_send`."""
    if endpoint in ("events", "update"):
        return WINDOW
    if endpoint == "close" or (endpoint == "win_data" and "data" in msg):
        return WINDOW if msg.get("win") is not None else ENV
    if endpoint in ("delete_env", "save", "fork_env") or endpoint.startswith("env/"):
        return ENV
    return READ


def reply(endpoint, msg):
    """What the server answers a write (stock Visdom returns it from the call)."""
    if endpoint in ("events", "update"):
        return str(msg["win"])
    if endpoint == "save":
        return json.dumps(list(msg.get("data", [])))
    if endpoint == "fork_env":
        return str(msg.get("eid"))
    return ""


def key(msg):
    return (msg.get("eid") or "main", msg.get("win"))


def created(msg):
    """(endpoint, message) that stock Visdom sends instead of this update when the window does
    not exist (its client asks `win_exists` first for these two), or None: the update goes as is."""
    data = msg.get("data") or [{}]
    if isinstance(data, list) and data and data[0].get("type") in ("image_history", "plot_history"):
        return "events", msg
    if msg.get("append") is True and "updateDir" not in msg and not msg.get("delete"):
        made = {k: v for k, v in msg.items() if k not in ("name", "append")}
        opts = dict(msg.get("opts") or {})
        made["layout"] = _opts2layout(opts, is3d=data[0].get("type") == "scatter3d")
        return "events", made
    return None


def merge(a, b):
    """One update with the effect of update `a` then update `b` on one window, or None.

    Scatter appends fold trace by trace (the server extends x and y and keeps every other field),
    text appends join with the server's "<br>". Anything else stays two requests."""
    if a.get("win") != b.get("win") or not isinstance(b.get("win"), str):
        return None   # integer ids never "exist" on the server: Visdom replaces on each append
    da, db = a.get("data"), b.get("data")
    if not (isinstance(da, list) and isinstance(db, list) and len(da) == len(db) and da):
        return None
    if "append" not in a and "append" not in b and _text(da) and _text(db) and len(da) == 1:
        joined = dict(da[0], content=da[0]["content"] + "<br>" + db[0]["content"])
        return dict(a, data=[joined])
    same = ("append", "name", "opts", "layout", "updateDir", "delete")
    if a.get("append") is not True or any(a.get(k) != b.get(k) for k in same) or "updateDir" in a:
        return None
    traces = []
    for ta, tb in zip(da, db):
        if (ta.get("type") not in SCATTER_TYPES or set(ta) != set(tb)
                or any(ta[k] != tb[k] for k in ta if k not in ("x", "y"))
                or not (_plain(ta["x"]) and _plain(tb["x"]))):
            return None
        traces.append(dict(ta, x=ta["x"] + tb["x"], y=ta["y"] + tb["y"]))
    return dict(a, data=traces)


def _text(data):
    return all(isinstance(t, dict) and t.get("type") == "text" and isinstance(t.get("content"), str)
               for t in data)


def _plain(xs):
    """The server skips (or fails on) appends whose x holds gaps: never fold those."""
    return isinstance(xs, list) and all(v is not None and v == v for v in xs)


def line_append(Y, X, win, env, opts, name):
    """The message Visdom's `line(Y, X, win, env, opts, update='append', name)` sends, built
    without its general path; None where the input needs that path (it raises or decides)."""
    if win is None or X is None or (opts is not None and not isinstance(opts, dict)):
        return None
    if opts is not None and any(k in opts for k in TRACE_OPTS):
        return None
    Y, X = _numpy(Y), _numpy(X)
    if not (isinstance(Y, np.ndarray) and isinstance(X, np.ndarray)) or Y.ndim not in (1, 2) \
            or X.ndim not in (1, 2) or Y.shape[-1] == 0 or Y.shape[0] == 0:
        return None
    if Y.ndim == 2 and X.ndim == 1:
        X = np.tile(X, (Y.shape[1], 1)).transpose()
    if X.shape != Y.shape or Y.dtype.kind not in "iuf" or X.dtype.kind not in "iuf":
        return None
    columns = 1 if Y.ndim == 1 else Y.shape[1]
    if columns > 1 and name is not None:
        return None
    dtype = np.result_type(X.dtype, Y.dtype)
    opts = {} if opts is None else opts   # Visdom fills in the caller's dict: so does this
    legend = opts.get("legend")
    if "legend" in opts and not (isinstance(legend, (tuple, list)) and len(legend) >= columns):
        return None
    opts["markers"] = opts.get("markers", False)
    opts["fillarea"] = opts.get("fillarea", False)
    opts["mode"] = "lines+markers" if opts.get("markers") else "lines"
    opts["markersymbol"] = opts.get("markersymbol", "dot")
    opts["markersize"] = opts.get("markersize", 10)
    opts["markerborderwidth"] = opts.get("markerborderwidth", 0.5)
    _title2str(opts)
    _assert_opts(opts)
    xs, ys = X.astype(dtype, copy=False), Y.astype(dtype, copy=False)
    xs, ys = (xs.tolist(), ys.tolist()) if Y.ndim == 1 else (xs.T.tolist(), ys.T.tolist())
    if Y.ndim == 1:
        xs, ys = [xs], [ys]
    data = []
    for k in range(columns):
        trace_name = legend[k] if "legend" in opts else (
            name if columns == 1 and name is not None else str(k + 1))
        marker = {"size": opts["markersize"], "symbol": opts["markersymbol"],
                  "line": {"color": "#000000", "width": opts["markerborderwidth"]}}
        trace = {"x": _no_nan(xs[k]), "y": _no_nan(ys[k]), "name": trace_name,
                 "type": "scattergl" if opts.get("webgl", False) else "scatter",
                 "mode": opts.get("mode"), "textposition": "right", "line": {}, "marker": marker}
        if opts.get("fillarea"):
            trace["fill"] = "tonexty"
        scrub = trace_name is None or None in (marker["size"], marker["symbol"],
                                               marker["line"]["width"])
        data.append(_scrub(trace) if scrub else trace)
    return {"data": data, "win": win, "eid": env, "layout": {}, "opts": dict(opts),
            "name": name, "append": True}


def plain(msg):
    """True when `msg` (built here) holds only JSON's own types: it can be encoded later, on the
    journal thread, with no error the caller should have had (a NumPy scalar in opts, say)."""
    return isinstance(msg["win"], (str, int)) and isinstance(msg["name"], (str, type(None))) and all(
        isinstance(v, PLAIN) or (isinstance(v, (list, tuple)) and all(isinstance(i, PLAIN) for i in v))
        for v in msg["opts"].values())


def _numpy(a):
    """Visdom's _to_numpy, without its DeprecationWarning on every tensor (a cost per call)."""
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(a, torch.Tensor):
        return a.detach().cpu().numpy()
    return np.array(a) if isinstance(a, list) else a


def _no_nan(values):
    """Visdom's nan2none for a flat list."""
    if any(isinstance(v, float) and math.isnan(v) for v in values):
        return [None if isinstance(v, float) and math.isnan(v) else v for v in values]
    return values


def _scrub(d):
    """Visdom's _scrub_dict: None values (and dicts that scrub to None) dropped."""
    return {k: _scrub(v) if isinstance(v, dict) else v for k, v in d.items() if v is not None}
