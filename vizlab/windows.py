"""The window model: what every window should show, the truth the sender syncs the server to.

Pure (no threads, no I/O) and shared by the live logger and `vizlab replay`, so a replay builds
exactly the windows the live run built. Line traces keep every point up to `max_points`; past
that a trace keeps buckets of a fixed x-stride (doubled when there are too many) holding the
minimum and maximum of each bucket, so the whole run stays in view and a one-step spike anywhere
stays visible. A trace of at most SPARSE_POINTS points draws markers (a lone point has no
line), its legend sits under the plot (long names never narrow it). A trace logged per step also
gets a smoothed companion (vizlab.smoothing), fed every raw point before decimation, then
decimated like any trace, drawn after all the raw traces once its trace has a few points. Other
windows keep their last message (a "settings" record is drawn as the settings table, and kept in
`settings` for `vizlab compare`). A "window" record declares a window's options once (under each
call's own) and places it on the page: a declared window is created at
once, empty, so the page shows the windows in the order they were declared.

Decimation lives in vizlab.decimation (Trace), the Plotly traces and layout in vizlab.plotly_render.
"""

import math
from typing import NamedTuple

from vizlab import image_history
from vizlab import journal as journal_mod
from vizlab import smoothing
from vizlab.decimation import Trace
from vizlab.palette import color
from vizlab.plotly_render import (LEGEND_ROW, PANE_HEIGHT, SPARSE_POINTS, layout_of, legend_below, marked,
                                  markers_on, pane_opts, trace_dict, with_ylabel)
from vizlab.settings_table import settings_pane
from vizlab.status import MAX_MARKS, StatusPane

# Callers import these from here as before the split (vizlab.decimation, vizlab.plotly_render).
__all__ = ["MAX_POINTS", "Ticket", "Trace", "Window", "Windows", "merge_opts", "SPARSE_POINTS", "LEGEND_ROW",
           "PANE_HEIGHT", "layout_of", "legend_below", "marked", "markers_on", "pane_opts", "trace_dict",
           "with_ylabel"]

MAX_POINTS = 10_000   # points a line trace shows by default (VisdomLogger(max_points=...))


class Ticket(NamedTuple):
    """What a request was made from, for delivered()/failed(): the window, its version and
    epoch then, and whether the request was whole (it replaces the window on the server)."""
    win: object
    version: int
    epoch: int
    whole: bool


TRACE_STYLES = ("linecolor", "dash")   # {trace: style}: a call styling one trace keeps the others'


def merge_opts(old, new):
    merged = dict(old, **new)
    for key in TRACE_STYLES:
        if key in old and key in new:
            merged[key] = dict(old[key], **new[key])
    return merged



class Window:
    """One window's content: `traces` for line windows, else the last full `message`."""

    def __init__(self, kind, opts):
        self.kind = kind          # "lines" or "message"
        self.opts = opts
        self.traces = {}
        self.smoothed = {}        # trace name -> (Smoother, Trace): its smoothed companion
        self.message = None
        self.on_server = False    # the server has it with the current structure: appends work
        self.changed = True       # has something the server has not seen
        self.version = 0          # +1 per change: a send that raced with a change leaves it changed
        self.epoch = 0            # +1 each time appends stop being enough
        self.turn = 0             # when it was last sent (Windows.turns): the oldest goes first
        self.marks = []           # x of the watchdog's alerts: dashed vertical lines
        self.history = []         # image windows with history=N: their last N images (vizlab.image_history)

    def touch(self, whole=False):
        self.changed = True
        self.version += 1
        if whole:
            self.resend()

    def size(self):
        """About how many points the window's plot shows (0 for images, text, figures)."""
        return sum(trace.size() for trace in self.traces.values())

    def resend(self):
        """The next send must be the whole window; pending appends are then not needed."""
        self.on_server = False
        self.epoch += 1
        for trace in self.all_traces():
            trace.new_xs, trace.new_ys = [], []

    def all_traces(self):
        return list(self.traces.values()) + [t for _, t in self.smoothed.values()]

    def companion(self, name):
        """The smoothed companion trace of trace `name` if it is drawn (enough points), else None."""
        entry = self.smoothed.get(name)
        return entry[1] if entry and self.traces[name].logged >= smoothing.MIN_POINTS else None

    def plotly(self, points, whole=True):
        """The Plotly traces in order (see smoothing.traces); points(trace) -> (xs, ys); whole:
        every shown point (an append's traces carry no mode: see trace_dict)."""
        entries = []
        for i, (name, trace) in enumerate(self.traces.items()):
            companion = self.companion(name)
            raw = trace_dict(name, *points(trace), self.opts, whole)
            smoothed = trace_dict(name, *points(companion), self.opts, whole) if companion else None
            entries.append((raw, smoothed, self.opts.get("linecolor", {}).get(name) or color(i)))
        return smoothing.traces(entries)


class Windows:
    def __init__(self, env, max_points, smoothing=0.0):
        self.env = env
        self.max_points = max_points
        self.smoothing = smoothing   # the run's weight; a declared window may have its own
        self.windows = {}
        self.declared = {}        # name -> its "window" record
        self.settings = {}        # name -> its last "settings" record (what compare reads)
        self.turns = 0            # requests built so far
        self.requests = {"whole": 0, "append": 0, "message": 0}   # requests built, by kind
        self.status = None        # the status pane's StatusPane, once a status record came

    def reset(self):
        self.windows.clear()
        self.declared.clear()
        self.settings.clear()
        self.status = None

    # --- applying journal records
    def apply(self, record):
        """Apply one journal record (per-point or batched "points" form)."""
        op = record["op"]
        if op == "start":
            if not record.get("resume"):   # a resumed run keeps the weight it started with
                self.reset()
                self.smoothing = smoothing.weight_or_off(record.get("smoothing", 0.0))
        elif op == "scalars":
            self._add_points(record["win"], [record["x"]], {t: [v] for t, v in record["y"].items()},
                             record.get("opts", {}))
        elif op == "points":
            self._add_points(record["win"], record["x"], record["y"], record.get("opts", {}))
        elif op == "status":
            self._status(record)
        elif op == "window":
            self.declared[record["win"]] = record
            self._declare(record["win"], record.get("kind", "line"), record.get("opts", {}))
        elif op == "line":
            xs, curves = _xs(record["x"]), {name: _ys(ys) for name, ys in record["y"].items()}
            win = self._line_window(record["win"], record.get("opts", {}), fresh=True, xlabel="x")
            for name, ys in curves.items():
                trace = win.traces[name] = Trace(self.max_points)
                for x, y in zip(xs, ys):
                    trace.add(x, y)
            win.touch(whole=True)
        else:
            message = self._message_of(record)
            old = self.windows.get(record["win"])
            self.windows[record["win"]] = win = Window("message", message["opts"])
            if op == "image" and message["opts"].get("history"):   # the last N images, a slider over them
                win.history = image_history.add(old.history if old else [], record, message,
                                                message["opts"]["history"])
                message = image_history.message(win.history, message)
            win.message = message
            if op == "settings":
                self.settings[record["win"]] = record

    def _status(self, record):
        """The status pane (vizlab.status) and, for an alert on a line window, its dashed mark."""
        self.status = self.status or StatusPane()
        alert = self.status.apply(record)
        win = self.windows[record["win"]] = Window("message", {})
        win.message = self.status.message()
        target = self.windows.get(alert.get("win")) if alert else None
        if target is not None and target.kind == "lines" and alert.get("x") is not None:
            target.marks = (target.marks + [alert["x"]])[-MAX_MARKS:]
            target.touch(whole=True)   # shapes are layout: appends cannot add them

    def _declare(self, name, kind, opts):
        win = self.windows.get(name)
        if kind == "line":
            self._line_window(name, opts)   # new: no traces yet, an empty plot holds the place
        elif win is None:
            # A blank pane holds the window's place on the page until its first content.
            self.windows[name] = win = Window("message", {})
            win.message = {"data": [{"content": "", "type": "text"}],
                           "opts": pane_opts(self._opts(name, {"title": name}, {}))}

    def _opts(self, name, defaults, opts):
        """A window's options: its defaults, under what was declared, under this call's own."""
        return merge_opts(merge_opts(defaults, self.declared.get(name, {}).get("opts", {})), opts)

    def _line_window(self, name, opts, fresh=False, xlabel="step"):
        win = self.windows.get(name)
        if win is None or win.kind != "lines" or fresh:
            defaults = {"title": name, "xlabel": xlabel, "showlegend": True}
            win = self.windows[name] = Window("lines", self._opts(name, defaults, opts))
        elif opts:
            merged = merge_opts(win.opts, opts)
            if merged != win.opts:    # new title/labels/styles: resend the whole window
                win.opts = merged
                win.resend()
        return win

    def _add_points(self, name, xs, values, opts):
        # every value checked before anything changes: a bad record leaves the window as it was
        xs, values = _xs(xs), {trace_name: _ys(ys) for trace_name, ys in values.items()}
        win = self._line_window(name, opts)
        whole = False
        for trace_name, ys in values.items():
            trace = win.traces.get(trace_name)
            if trace is None:
                trace = win.traces[trace_name] = Trace(self.max_points)
                whole = True          # an append cannot add a trace: resend the whole window
                self._smooth(win, trace_name)
            sparse = not trace.decimated and len(trace.xs) <= SPARSE_POINTS
            drawn = win.companion(trace_name) is not None
            whole = trace.extend(xs, ys) or whole
            if sparse and len(trace.xs) > SPARSE_POINTS and "markers" not in win.opts:
                whole = True          # its markers go: the mode changes with a whole send, once
            if trace_name in win.smoothed:
                smoother, companion = win.smoothed[trace_name]
                moved = companion.extend(xs, smoother.smooth(ys))
                # a companion appears (a new trace) or changes as an append cannot express
                whole = whole or (win.companion(trace_name) is not None and (moved or not drawn))
            if len(trace.new_xs) > self.max_points:
                whole = True          # the whole window is smaller than the pending appends
        win.touch(whole=whole or not win.on_server)

    def _smooth(self, win, trace_name):
        """Give a new per-step trace its smoothed companion, unless the weight is 0 or the
        window is an area plot (each area fills to the trace before it)."""
        weight = smoothing.weight_or_off(win.opts.get("smoothing", self.smoothing))
        if weight and not win.opts.get("fillarea"):
            win.smoothed[trace_name] = (smoothing.Smoother(weight), Trace(self.max_points))

    def _message_of(self, record):
        op, name = record["op"], record["win"]
        defaults = {"title": name}
        if op == "image":   # the grid's own size, unless declared or given
            defaults.update(zip(("width", "height"), record.get("size", ())))
        elif op == "settings":   # the table, and the pane sized to it
            content, defaults["width"], defaults["height"] = settings_pane(record)
        elif op == "figure":
            title = (record.get("layout") or {}).get("title")
            defaults["title"] = title if isinstance(title, str) else name
        opts = self._opts(name, defaults, record.get("opts", {}))
        if op == "image":
            data = [{"content": {"src": record["src"], "caption": opts.get("caption")}, "type": "image"}]
        elif op == "text":
            data = [{"content": self._text_before(record) + record["html"], "type": "text"}]
        elif op == "settings":
            data = [{"content": content, "type": "text"}]
        elif op == "figure":
            return {"data": record["traces"], "layout": record.get("layout") or {}, "opts": opts}
        else:
            raise ValueError(f"unknown journal record op {op!r}")
        return {"data": data, "opts": opts}

    def _text_before(self, record):
        """What a text pane shows, for a record that appends to it ("" for one that replaces)."""
        win = self.windows.get(record["win"]) if record.get("append") else None
        data = (getattr(win, "message", None) or {}).get("data") or [{}]
        return data[0].get("content", "") if data[0].get("type") == "text" else ""

    # --- building requests (the sender holds its lock around these)
    def changed(self):
        """Names of the windows the server is behind on, the longest unsent first (never sent:
        in the order they were made, which is their order on the page)."""
        waiting = [(win.turn, name) for name, win in self.windows.items() if win.changed]
        return [name for _, name in sorted(waiting, key=lambda w: w[0])]

    def request(self, name):
        """(endpoint, message, ticket) bringing the server's `name` up to date; the points of an
        append are taken now, so pass `ticket` to delivered() or failed() afterwards."""
        win = self.windows[name]
        ticket = Ticket(win, win.version, win.epoch, win.kind == "message" or not win.on_server)
        self.turns += 1
        win.turn = self.turns
        kind = "message" if win.kind == "message" else "append" if win.on_server else "whole"
        self.requests[kind] += 1
        if win.kind == "message":
            return "events", dict(win.message, win=name, eid=self.env), ticket
        if not win.on_server:
            for t in win.all_traces():
                t.take_new()
            data = win.plotly(Trace.shown)
            if not data:   # declared, no point yet: Visdom needs a trace to make a plot pane
                data = [dict(trace_dict("", [], [], {}), showlegend=False)]
            opts = with_ylabel(win.opts, name, win.traces)
            return "events", {"data": data, "layout": marked(layout_of(opts, len(data)), win.marks), "win": name,
                              "eid": self.env, "opts": pane_opts(win.opts)}, ticket
        # Append: one entry per trace in window order; traces with nothing new send empty lists,
        # which the server skips. No "layout" key: a server that lost the window then answers
        # with an error instead of silently creating a window holding only these points.
        data = win.plotly(Trace.take_new, whole=False)
        return "update", {"data": data, "win": name, "eid": self.env, "append": True}, ticket

    def delivered(self, name, ticket):
        win, version, epoch, whole = ticket
        if self.windows.get(name) is not win:
            return                    # replaced meanwhile (a new run, a new kind): send it anew
        if whole and win.epoch == epoch:
            win.on_server = True
        win.changed = win.version != version or not win.on_server

    def failed(self, name, ticket):
        """The send did not arrive: send the whole window next time (taken appends are gone)."""
        win = ticket.win
        if self.windows.get(name) is win:
            win.touch(whole=True)

    def on_server(self):
        """Names of the windows the server should hold (sent whole since they last changed shape)."""
        return [n for n, w in self.windows.items() if w.on_server]

    def lost(self, name):
        """The server no longer has this window: send it whole next time."""
        self.windows[name].touch(whole=True)

    def settle(self):
        """Give every decimated trace the form its buckets alone give (what a replay of the
        journal shows); windows that change by it are sent whole once."""
        for win in self.windows.values():
            for trace in win.all_traces():
                if trace.decimated and trace.settle():
                    win.touch(whole=True)

    def decimated(self):
        """{(window, trace): (logged, shown)} for traces whose plot is decimated."""
        return {(name, tn): (t.logged, len(t.shown()[0])) for name, win in list(self.windows.items())
                for tn, t in list(win.traces.items()) if t.decimated}


def _xs(xs):
    """The x values, if all are finite numbers (a step, an epoch, a time); else a ValueError."""
    if _finite_numbers(xs):
        return xs
    if not all((type(x) is int or type(x) is float) and x - x == 0 for x in xs):
        bad = next(x for x in xs if not ((type(x) is int or type(x) is float) and x - x == 0))
        raise ValueError(f"x={bad!r:.40} is not a finite number")
    return xs


def _ys(ys):
    """y values as the plot takes them: numbers, and gaps (None) for NaN/Inf and their journal
    spellings; anything else is a ValueError."""
    if _finite_numbers(ys):
        return ys
    return [y if type(y) is float and y - y == 0 or type(y) is int else _gap(y) for y in ys]


def _finite_numbers(values):
    """True if every value is an int or a finite float: a batch's check at C speed (a NaN or an
    Inf makes the sum one; a sum that overflows, or an int beyond float range, leaves it to the
    slow check)."""
    if not set(map(type, values)) <= _NUMBERS:
        return False
    try:
        total = sum(values)
    except OverflowError:
        return False
    return total - total == 0


_NUMBERS = {int, float}


def _gap(value):
    value = journal_mod.decode_number(value)
    if value is None or (type(value) is float and not math.isfinite(value)):
        return None
    if type(value) is int or type(value) is float:
        return value
    raise ValueError(f"y={value!r:.40} is not a number (nor 'nan', 'inf', '-inf')")

