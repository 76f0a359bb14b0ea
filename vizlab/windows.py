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
"""

import math
from typing import NamedTuple

from vizlab import image_history
from vizlab import journal as journal_mod
from vizlab import smoothing
from vizlab.palette import color
from vizlab.settings_table import settings_pane
from vizlab.status import MAX_MARKS, StatusPane

MAX_POINTS = 10_000   # points a line trace shows by default (VisdomLogger(max_points=...))


class Ticket(NamedTuple):
    """What a request was made from, for delivered()/failed(): the window, its version and
    epoch then, and whether the request was whole (it replaces the window on the server)."""
    win: object
    version: int
    epoch: int
    whole: bool

SPARSE_POINTS = 10   # a trace of at most this many points draws markers (a lone point has no line)


def markers_on(opts, points):
    """Markers: as the window's `markers` option says, else while the trace is sparse."""
    markers = opts.get("markers")
    return points <= SPARSE_POINTS if markers is None else markers


def trace_dict(name, xs, ys, opts, whole=True):
    """One Plotly trace; `whole`: xs are the trace's every shown point (not an append's)."""
    markers = markers_on(opts, len(xs)) if whole else opts.get("markers")
    trace = {"x": xs, "y": ys, "name": name, "type": "scatter",
             "mode": "lines+markers" if markers else "lines"}
    if markers:
        trace["marker"] = {"size": opts.get("markersize", 6), "symbol": "dot"}
    if opts.get("fillarea"):
        trace["fill"] = "tonexty"
    if opts.get("webgl"):
        trace["type"] = "scattergl"
    line = {"color": opts.get("linecolor", {}).get(name), "dash": opts.get("dash", {}).get(name)}
    if any(line.values()):
        trace["line"] = {k: v for k, v in line.items() if v}
    return trace


TRACE_STYLES = ("linecolor", "dash")   # {trace: style}: a call styling one trace keeps the others'


def merge_opts(old, new):
    merged = dict(old, **new)
    for key in TRACE_STYLES:
        if key in old and key in new:
            merged[key] = dict(old[key], **new[key])
    return merged


def with_ylabel(opts, name, trace_names):
    """opts with the default y label: the window's name when it holds one trace; with several
    none (the legend names them, the title names the window), unless a ylabel was given."""
    if "ylabel" in opts or len(trace_names) > 1:
        return opts
    return dict(opts, ylabel=name)


PANE_HEIGHT = 350   # Visdom's default plot pane (px); its plot is 14 px less (the title bar)
LEGEND_ROW = 19     # px per legend row (Plotly's default font)


def legend_below(opts, traces):
    """A horizontal legend under the x axis: a legend on the right takes the width of its
    longest name, which at Visdom's default ~370 px pane leaves the plot a fraction of it.

    Plotly 2.11 (Visdom's) places a legend below the plot in fractions of the plot's height, and
    its room (the bottom margin) shrinks the plot, so y is what keeps the axis labels (the
    bottom margin) clear even if every trace takes a row of its own."""
    height = opts.get("height", PANE_HEIGHT) - 14
    labels = opts.get("marginbottom", 60) + 2
    room = height - opts.get("margintop", 60) - LEGEND_ROW * traces - 8 - labels
    return {"orientation": "h", "x": 0, "xanchor": "left", "yanchor": "top",
            "y": -round(labels / max(room, labels), 3)}


def layout_of(opts, traces=1):
    """Plotly layout for a line window of `traces` traces, as visdom's own line() would build
    it, with the legend under the plot."""
    layout = {"showlegend": opts.get("showlegend", True), "title": opts.get("title"),
              "margin": {"l": opts.get("marginleft", 60), "r": opts.get("marginright", 60),
                         "t": opts.get("margintop", 60), "b": opts.get("marginbottom", 60)}}
    if layout["showlegend"]:
        layout["legend"] = legend_below(opts, traces)
    for axis in ("x", "y"):
        spec = {"title": opts.get(axis + "label"), "type": opts.get(axis + "type")}
        lo, hi = opts.get(axis + "tickmin"), opts.get(axis + "tickmax")
        if lo is not None and hi is not None:
            spec["range"] = [lo, hi]
        layout[axis + "axis"] = {k: v for k, v in spec.items() if v is not None}
    layout.update(opts.get("layoutopts", {}).get("plotly", {}))
    return layout


class Trace:
    """One line trace: every point while few, else min/max per x-stride bucket, sent as appends.

    Past max_points the plot is `log` (what the server holds, appended in x order) plus the open
    segment (the points since the last send, all in the latest bucket) shown as its minimum,
    maximum and last point. A send seals the open segment into the log; a bucket that closes
    seals as its minimum and maximum. The log is rebuilt from the buckets (a whole send) only when
    it would pass max_points (doubling the stride when the buckets need it) or a point arrives at
    an x before the latest one.
    """

    def __init__(self, max_points):
        self.buckets_max = max(1, (max_points - 1) // 2)   # 2 per bucket + the last point
        self.max_points = max_points
        self.xs, self.ys = [], []            # every point (until decimated)
        self.new_xs, self.new_ys = [], []    # points not yet appended on the server
        self.logged = 0                      # every point ever logged (the journal has them all)
        self.stride = None                   # set once decimated
        self.x0 = 0.0
        self.buckets = {}                    # index -> [lo_x, lo_y, hi_x, hi_y, gap_x]: every point
        self.last = None
        self.top = None                      # the largest x so far (decimated)
        self.log = []                        # decimated: shown points before the open segment
        self.seg, self.seg_k, self.seg_last = None, None, None   # the open segment
        self.stale = False                   # the log must be rebuilt from the buckets
        self.rebuilds = 0                    # log rebuilds: each one a whole send
        self.doublings = 0

    @property
    def decimated(self):
        return self.stride is not None

    def add(self, x, y):
        """Add one point; True when the shown points changed in a way an append cannot express."""
        self.logged += 1
        self.last = (x, y)
        if self.stride is None:
            self.xs.append(x)
            self.ys.append(y)
            if len(self.xs) <= self.max_points:
                self.new_xs.append(x)
                self.new_ys.append(y)
                return False
            self._start_buckets()
            return True
        k = int((x - self.x0) // self.stride)
        b = self.buckets.get(k)
        if b is not None:
            _into(b, x, y)
        else:
            self.buckets[k] = _into(None, x, y)
            if len(self.buckets) > self.buckets_max:
                self._double()
                self.stale = True
        if self.stale or x < self.top:
            self.top = max(self.top, x)
            self.stale = True         # an x before the latest: the log cannot take it
            return True
        self.top = x
        if k != self.seg_k:
            self._seal(with_last=False)   # the open bucket closed: its min and max stay
            self.seg_k = k
        if self.seg is not None:
            _into(self.seg, x, y)
        elif len(self.log) + 3 > self.max_points:
            self.stale = True             # no room for a new segment: rebuild, send whole
            return True
        else:
            self.seg = _into(None, x, y)
        self.seg_last = (x, y)
        return False

    def extend(self, xs, ys):
        """add() for many points (gaps already None); True when an append cannot express them."""
        if self.stride is None:
            room = self.max_points - len(self.xs)
            head_x, head_y = xs[:room], ys[:room]
            if head_x:
                self.xs += head_x
                self.ys += head_y
                self.new_xs += head_x
                self.new_ys += head_y
                self.logged += len(head_x)
                self.last = (head_x[-1], head_y[-1])
            if len(xs) <= room:
                return False
            xs, ys = xs[room:], ys[room:]
        whole = False
        for x, y in zip(xs, ys):
            whole = self.add(x, y) or whole
        return whole

    def _start_buckets(self):
        xs, ys = self.xs, self.ys
        lo, hi = min(xs), max(xs)
        self.x0, self.top = lo, hi
        self.stride = (hi - lo) / max(1, self.buckets_max // 2) or 1.0
        self.xs, self.ys, self.new_xs, self.new_ys = [], [], [], []
        for x, y in zip(xs, ys):
            k = int((x - self.x0) // self.stride)
            self.buckets[k] = _into(self.buckets.get(k), x, y)
        self.stale = True

    def _double(self):
        """Twice the stride: merge neighbouring buckets, keeping the min and max of each pair."""
        self.stride *= 2
        self.doublings += 1
        merged = {}
        for k, b in sorted(self.buckets.items()):
            m = merged.get(k // 2)
            if m is None:
                merged[k // 2] = b
                continue
            if b[4] is not None and (m[4] is None or b[4] < m[4]):
                m[4] = b[4]
            if b[1] is not None:
                if m[1] is None:
                    m[0], m[1], m[2], m[3] = b[0], b[1], b[2], b[3]
                else:
                    if b[1] < m[1]:
                        m[0], m[1] = b[0], b[1]
                    if b[3] > m[3]:
                        m[2], m[3] = b[2], b[3]
        self.buckets = merged

    def _rebuild(self):
        """The log from the buckets, leaving room for half a window of appends."""
        self.rebuilds += 1
        self.stale = False
        while len(self.buckets) > self.buckets_max // 2 + 1:
            self._double()
        keys = sorted(self.buckets)
        self.log = [p for k in keys[:-1] for p in _shown_points(self.buckets[k], None)]
        self.seg_k = keys[-1]
        self.seg = list(self.buckets[self.seg_k])
        last_k = int((self.last[0] - self.x0) // self.stride)
        self.seg_last = self.last if last_k == self.seg_k else None
        self.new_xs, self.new_ys = [], []     # a whole send follows

    def _seal(self, with_last):
        if self.seg is None:
            return
        points = _shown_points(self.seg, self.seg_last if with_last else None)
        self.log += points
        self.new_xs += [p[0] for p in points]
        self.new_ys += [p[1] for p in points]
        self.seg, self.seg_last = None, None

    def shown(self):
        """(xs, ys): the points the plot shows, in x order; at most max_points."""
        if self.stride is None:
            return list(self.xs), list(self.ys)
        if self.stale:
            self._rebuild()
        points = self.log + (_shown_points(self.seg, self.seg_last) if self.seg else [])
        return [p[0] for p in points], [p[1] for p in points]

    def settle(self):
        """Rebuild the log from the buckets; True if that changed what is shown or pending."""
        before, pending = self.shown(), self.new_xs
        self.stale = True
        self.rebuilds -= 1            # not a rebuild for room: do not count it as one
        return self.shown() != before or bool(pending)

    def size(self):
        """About how many points the plot shows, without building them (asked every round)."""
        return len(self.xs) if self.stride is None else min(self.max_points, len(self.log) + 3)

    def take_new(self):
        """The points to append now (the open segment is sealed: the server will show it)."""
        if self.stride is not None:
            if self.stale:
                self._rebuild()
            self._seal(with_last=True)
        xs, ys = self.new_xs, self.new_ys
        self.new_xs, self.new_ys = [], []
        return xs, ys


def _into(b, x, y):
    """(x, y) put in bucket b = [lo_x, lo_y, hi_x, hi_y, gap_x] (None: a new one); returns it."""
    if b is None:
        return [x, y, x, y, x] if y is None else [x, y, x, y, None]
    if y is None:
        if b[4] is None:
            b[4] = x
    elif b[1] is None:
        b[0], b[1], b[2], b[3] = x, y, x, y
    else:
        if y < b[1]:
            b[0], b[1] = x, y
        elif y > b[3]:
            b[2], b[3] = x, y
    return b


def _shown_points(b, last):
    """A bucket's (or segment's) points on the plot: its min and max, or its gap; then `last`."""
    lo_x, lo_y, hi_x, hi_y, gap_x = b
    if lo_y is None:
        points = [(gap_x, None)]
    elif lo_x == hi_x and lo_y == hi_y:
        points = [(lo_x, lo_y)]
    else:
        points = sorted([(lo_x, lo_y), (hi_x, hi_y)], key=lambda p: p[0])
    if last is not None and last != points[-1] and last[0] >= points[-1][0]:
        points.append(last)
    return points


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
            win = self._line_window(record["win"], record.get("opts", {}), fresh=True, xlabel="x")
            for name, ys in record["y"].items():
                trace = win.traces[name] = Trace(self.max_points)
                for x, y in zip(record["x"], ys):
                    trace.add(x, _gap(y))
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
        win = self._line_window(name, opts)
        whole = False
        for trace_name, ys in values.items():
            trace = win.traces.get(trace_name)
            if trace is None:
                trace = win.traces[trace_name] = Trace(self.max_points)
                whole = True          # an append cannot add a trace: resend the whole window
                self._smooth(win, trace_name)
            ys = [y if type(y) is float and y - y == 0 or type(y) is int else _gap(y) for y in ys]
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
            data = [{"content": record["html"], "type": "text"}]
        elif op == "settings":
            data = [{"content": content, "type": "text"}]
        elif op == "figure":
            return {"data": record["traces"], "layout": record.get("layout") or {}, "opts": opts}
        else:
            raise ValueError(f"unknown journal record op {op!r}")
        return {"data": data, "opts": opts}

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


def _gap(value):
    value = journal_mod.decode_number(value)
    return None if value is None or (isinstance(value, float) and not math.isfinite(value)) else value


def marked(layout, marks):
    """The layout with a dashed vertical line at each x in `marks` (the watchdog's alerts)."""
    if not marks:
        return layout
    lines = [{"type": "line", "xref": "x", "yref": "paper", "x0": x, "x1": x, "y0": 0, "y1": 1,
              "line": {"color": "#d62728", "width": 1, "dash": "dash"}} for x in marks]
    return dict(layout, shapes=list(layout.get("shapes", [])) + lines)


def pane_opts(opts):
    """The pane's own options (title and size), as Visdom's /events takes them."""
    return {k: opts[k] for k in ("title", "width", "height") if opts.get(k) is not None}
