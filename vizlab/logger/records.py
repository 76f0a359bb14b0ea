"""Calls -> journal records, on the journal thread: read numbers, render images, batch scalars.

The queued calls (events) are plain tuples, kind first (a tuple literal is what keeps a scalar
call near 1 µs); their shapes, as VisdomLogger and VisdomLogger.settings make them:
    ("scalar", win, x, y, trace)                 # log.scalar's checked call: numbers only, so the
        # garbage collector untracks it at once (a long queue of them costs no full collections)
    ("scalars", win, x, {trace: y}, opts)       ("line", win, xs, {trace: ys}, opts)
    ("images", win, grid, (tile_h, tile_w, columns), labels, preds, opts)
    ("text", win, html, opts)                    ("figure", win, traces, layout, opts)
    ("window", win, kind, opts)                  ("settings", win, entry, opts)

Option-free `scalar`/`scalars` calls to one window with the same traces, between two other calls,
become ONE batched record, {"op": "points", "win": ..., "x": [...], "y": {trace: [...]}}: one JSON line per burst
instead of one per call is what lets the journal keep up with a fast loop.
"""

import math

import numpy as np

from vizlab import journal as journal_mod
from vizlab.logger.counts import Counts
from vizlab.run_settings import is_tensor  # noqa: F401 (also read from here)

# No torch at module level: `vizlab replay` and the CLI must stay free of it. A tensor can
# only reach us once the caller imported torch. Reading a value (.item()/.tolist()) is not a
# torch op that starts a thread pool; anything heavier happens on the caller (see render.py).


def number(value):
    """Python/NumPy number or one-element tensor -> int or float (reads tensors: not the caller)."""
    if type(value) is float or type(value) is int:
        return value
    if is_tensor(value) or isinstance(value, (np.generic, np.ndarray)):
        value = value.item()
    return value if isinstance(value, int) and not isinstance(value, bool) else float(value)


def numbers(values):
    if is_tensor(values):
        values = values.detach().cpu().numpy()
    return [number(v) for v in np.asarray(values, dtype=object).reshape(-1)]


class Converter:
    """Turns a list of queued calls into journal records; counts NaN/Inf and reports errors."""

    def __init__(self, report, counts=None):
        self.report = report              # report(key, message): the rate-limited warning
        self.counts = counts if counts is not None else Counts()

    def records(self, events):
        """Records in call order, except that option-free scalars calls are gathered into one
        batch per (window, traces) until the next other call: each trace keeps its order."""
        out, batches = [], {}
        last_win = last_t = add_x = add_y = None   # the one-trace batch the last call went to
        for event in events:
            try:
                kind = event[0]
                if kind == "scalar":   # VisdomLogger.scalar's checked call: numbers, x finite
                    _, win, x, y, t = event
                    if y - y != 0:
                        y = self._finite(y, win, t)
                elif kind == "scalars" and not event[4]:
                    _, win, x, values, _ = event
                    if type(x) is not int and not (type(x) is float and x - x == 0):
                        x = self._x(x)   # a GPU tensor's snapshot, read here; a bad x drops this call
                    if len(values) == 1:   # one trace (most calls): no lists, no key to build
                        (t, y), = values.items()
                        if not (type(y) is float and y - y == 0 or type(y) is int):
                            y = self._finite(number(y), win, t)
                    else:
                        self._add_traces(batches, out, win, x, values)
                        continue
                else:
                    record = self.record(event)
                    batches.clear()
                    last_win = last_t = None
                    out.append(record)
                    continue
                if t is not last_t or win is not last_win:   # one trace: the batch it goes to
                    key, last_win, last_t = (win, t), win, t
                    batch = batches.get(key)
                    if batch is None:
                        batch = batches[key] = self._batch(win, (t,), out)
                    add_x, add_y = batch[0], batch[1]
                add_x(x)
                add_y(y)
            except Exception as err:
                self.counts.journal_errors += 1
                self.counts.dropped += 1
                self.report(f"event:{event[0]}:{type(err).__name__}",
                            f"could not log {event[0]} to window {event[1]!r} "
                            f"({type(err).__name__}: {err}); that call alone is dropped, all else is kept")
        for record in out:   # a batch of one is written in today's per-point form
            if record["op"] == "points" and len(record["x"]) == 1:
                record.update(op="scalars", x=record["x"][0],
                              y={t: v[0] for t, v in record["y"].items()})
        return out

    def _add_traces(self, batches, out, win, x, values):
        """A call with several traces: to the batch of its (window, traces)."""
        ys = [*values.values()]
        for y in ys:
            if not (type(y) is float and y - y == 0 or type(y) is int):
                ys = [self._finite(number(v), win, t) for t, v in values.items()]
                break
        key = (win, *values)
        batch = batches.get(key)
        if batch is None:
            batch = batches[key] = self._batch(win, values, out)
        batch[0](x)
        for append, y in zip(batch[1:], ys):
            append(y)

    @staticmethod
    def _batch(win, traces, out):
        """A new "points" record in `out`; returns the appends of its x list and of each trace's."""
        record = {"op": "points", "win": win, "x": [], "y": {t: [] for t in traces}}
        out.append(record)
        return (record["x"].append, *(ys.append for ys in record["y"].values()))

    def _x(self, x):
        x = number(x)
        if type(x) is float and not math.isfinite(x):
            raise ValueError(f"x is {x}; it must be finite")
        return x

    def _xs(self, values):
        xs = numbers(values)
        if not all(type(x) is int or math.isfinite(x) for x in xs):
            raise ValueError("x holds NaN or Inf; it must be finite")
        return xs

    def _point(self, event):
        _, win, x, values, _ = event
        return self._x(x), {trace: self._finite(number(v), win, trace) for trace, v in values.items()}

    def record(self, event):
        op, win = event[0], event[1]
        if op == "scalars":
            x, y = self._point(event)
            record, opts = {"op": op, "win": win, "x": x, "y": y}, event[4]
        elif op == "line":
            _, _, x, ys, opts = event
            record = {"op": op, "win": win, "x": self._xs(x),
                      "y": {n: [self._finite(v, win, n) for v in numbers(seq)] for n, seq in ys.items()}}
        elif op == "images":
            from vizlab.logger.render import draw_labels, png_data_url   # Pillow: only when images come

            _, _, grid, (tile_h, tile_w, columns), labels, preds, opts = event
            grid = draw_labels(grid, tile_h, tile_w, columns, _labels(labels), _labels(preds))
            record = {"op": "image", "win": win, "src": png_data_url(grid),
                      "size": [int(grid.shape[1]), int(grid.shape[0])]}
        elif op == "text":
            _, _, html, opts = event
            record = {"op": op, "win": win, "html": html}
            if opts.get("append"):   # added to the pane's text (vizlab.windows)
                opts = {k: v for k, v in opts.items() if k != "append"}
                record["append"] = True
        elif op == "figure":
            _, _, traces, layout, opts = event
            record = {"op": op, "win": win, "traces": traces, "layout": layout}
        elif op == "window":
            _, _, kind, opts = event
            record = {"op": op, "win": win, "kind": kind}
        elif op == "settings":
            _, _, entry, opts = event
            record = dict({"op": op, "win": win}, **entry)
        else:
            raise ValueError(f"unknown event {op!r}")
        if opts:
            record["opts"] = opts
        return record

    def _finite(self, value, win, trace):
        if type(value) is float and not math.isfinite(value):
            self.counts.nonfinite += 1
            self.report("nonfinite", f"{value} in window {win!r} trace {trace!r}: shown as a gap "
                        "(NaN/Inf values are counted; see the summary at close)", once=True)
            return journal_mod.encode_number(value)
        return value


def _labels(values):
    if values is None:
        return None
    if is_tensor(values):
        values = values.detach().cpu().tolist()
    return [v.item() if isinstance(v, np.generic) else v for v in list(values)]
