"""The logger's background half: turn queued calls into journal records and Visdom requests.

Three small parts, each with one job:
- `Windows`: what every window should show (the truth the server is synced to). Lines keep their
  points, decimated past `max_points` per trace; other windows keep their last message. Also used
  by `vizlab replay`, so a replay builds exactly the windows the live run built.
- `Connection`: HTTP posts to Visdom's `/events`, `/update` and `/win_exists` endpoints, with login.
- `Sender`: the thread. Each cycle it drains the queue (reading tensors, rendering images, writing the
  journal), then sends ONE request per changed window: an append of the new points, or the whole
  window when it is new, reshaped, or lost by a restarted server.
"""

import hashlib
import json
import math
import os
import sys
import threading
import time

import numpy as np
import requests

from vizlab import journal as journal_mod

# No torch or vizlab.render at module level: `vizlab replay` and the CLI import this module,
# and torch + torchvision cost seconds. A tensor can only reach us once the caller imported torch.

# ----------------------------------------------------------------------------- windows model


def trace_dict(name, xs, ys, opts):
    trace = {"x": xs, "y": ys, "name": name, "type": "scatter",
             "mode": "lines+markers" if opts.get("markers") else "lines"}
    if opts.get("markers"):
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


def layout_of(opts):
    """Plotly layout for a line window, as visdom's own line() would build it."""
    layout = {"showlegend": opts.get("showlegend", True), "title": opts.get("title"),
              "margin": {"l": opts.get("marginleft", 60), "r": opts.get("marginright", 60),
                         "t": opts.get("margintop", 60), "b": opts.get("marginbottom", 60)}}
    for axis in ("x", "y"):
        spec = {"title": opts.get(axis + "label"), "type": opts.get(axis + "type")}
        lo, hi = opts.get(axis + "tickmin"), opts.get(axis + "tickmax")
        if lo is not None and hi is not None:
            spec["range"] = [lo, hi]
        layout[axis + "axis"] = {k: v for k, v in spec.items() if v is not None}
    layout.update(opts.get("layoutopts", {}).get("plotly", {}))
    return layout


def decimate(xs, ys, target):
    """At most `target` points: per bucket the min and max y (in x order), plus the last point.

    Extremes survive, so spikes and the best value stay visible; gaps (None) survive as one None
    per all-gap bucket.
    """
    buckets = max(1, (target - 1) // 2)
    size = math.ceil(len(xs) / buckets)
    keep = []
    for start in range(0, len(xs), size):
        idx = [i for i in range(start, min(start + size, len(xs))) if ys[i] is not None]
        if not idx:
            keep.append(start)
            continue
        lo = min(idx, key=ys.__getitem__)
        hi = max(idx, key=ys.__getitem__)
        keep.extend(sorted({lo, hi}))
    if keep[-1] != len(xs) - 1:
        keep.append(len(xs) - 1)
    return [xs[i] for i in keep], [ys[i] for i in keep]


class Trace:
    def __init__(self):
        self.xs, self.ys = [], []            # what the plot shows
        self.new_xs, self.new_ys = [], []    # shown but not yet sent
        self.logged = 0                      # every point ever logged (the journal has them all)


class Window:
    """One window's content: `traces` for line windows, else the last full `message`."""

    def __init__(self, kind, opts):
        self.kind = kind          # "lines" or "message"
        self.opts = opts
        self.traces = {}
        self.message = None
        self.on_server = False    # created on the server with the current structure
        self.changed = True       # has something the server has not seen

    def drop_pending(self):
        """Forget the points waiting to be appended (the whole window is sent or was just sent)."""
        for trace in self.traces.values():
            trace.new_xs, trace.new_ys = [], []


class Windows:
    def __init__(self, env, max_points):
        self.env = env
        self.max_points = max_points
        self.windows = {}

    def reset(self):
        self.windows.clear()

    # --- applying journal records
    def apply(self, record):
        op = record["op"]
        if op == "start":
            self.reset()
        elif op == "scalars":
            self._add_points(record["win"], record["x"], record["y"], record.get("opts", {}))
        elif op == "line":
            win = self._line_window(record["win"], dict({"xlabel": "x"}, **record.get("opts", {})),
                                    fresh=True)
            for name, ys in record["y"].items():
                trace = win.traces[name] = Trace()
                trace.xs, trace.ys = list(record["x"]), [_gap(v) for v in ys]
                trace.logged = len(ys)
                self._bound(win, trace)
        else:
            self.windows[record["win"]] = win = Window("message", record.get("opts", {}))
            win.message = self._message_of(record)

    def _line_window(self, name, opts, fresh=False):
        win = self.windows.get(name)
        if win is None or win.kind != "lines" or fresh:
            defaults = {"title": name, "xlabel": "step", "ylabel": name, "showlegend": True}
            win = self.windows[name] = Window("lines", dict(defaults, **opts))
        elif opts:
            merged = merge_opts(win.opts, opts)
            if merged != win.opts:    # new title/labels/styles: resend the whole window
                win.opts, win.on_server = merged, False
        win.changed = True
        return win

    def _add_points(self, name, x, values, opts):
        win = self._line_window(name, opts)
        for trace_name, y in values.items():
            trace = win.traces.get(trace_name)
            if trace is None:
                trace = win.traces[trace_name] = Trace()
                win.on_server = False  # an append cannot add a trace: resend the whole window
            y = _gap(y)
            trace.xs.append(x)
            trace.ys.append(y)
            trace.new_xs.append(x)
            trace.new_ys.append(y)
            trace.logged += 1
            self._bound(win, trace)

    def _bound(self, win, trace):
        if len(trace.xs) > self.max_points:
            trace.xs, trace.ys = decimate(trace.xs, trace.ys, self.max_points // 2)
            win.on_server = False
        if not win.on_server or len(trace.new_xs) > self.max_points:
            # The whole window will be sent, so pending appends are not needed (memory stays bounded).
            win.on_server = False
            win.drop_pending()

    def _message_of(self, record):
        op, opts = record["op"], dict(record.get("opts", {}))
        if op == "image":
            data = [{"content": {"src": record["src"], "caption": opts.get("caption")}, "type": "image"}]
        elif op == "text":
            data = [{"content": record["html"], "type": "text"}]
        elif op == "figure":
            layout = record.get("layout") or {}
            title = layout.get("title")
            opts.setdefault("title", title if isinstance(title, str) else record["win"])
            return {"data": record["traces"], "layout": layout, "opts": opts}
        else:
            raise ValueError(f"unknown journal record op {op!r}")
        return {"data": data, "opts": opts}

    # --- building requests
    def changed(self):
        return [name for name, win in self.windows.items() if win.changed]

    def request(self, name):
        """(endpoint, message, is_whole_window) that brings the server's `name` up to date."""
        win = self.windows[name]
        if win.kind == "message":
            return "events", dict(win.message, win=name, eid=self.env), True
        if not win.on_server:
            data = [trace_dict(n, t.xs, t.ys, win.opts) for n, t in win.traces.items()]
            return "events", {"data": data, "layout": layout_of(win.opts), "win": name,
                              "eid": self.env, "opts": _pane_opts(win.opts)}, True
        # Append: one entry per trace in window order; traces with nothing new send empty lists,
        # which the server skips. No "layout" key: a server that lost the window then answers
        # with an error instead of silently creating a window holding only these points.
        data = [trace_dict(n, t.new_xs, t.new_ys, win.opts) for n, t in win.traces.items()]
        return "update", {"data": data, "win": name, "eid": self.env, "append": True}, False

    def delivered(self, name):
        win = self.windows[name]
        win.on_server, win.changed = True, False
        win.drop_pending()

    def lost(self, name):
        """The server no longer has this window: send it whole next time."""
        win = self.windows[name]
        win.on_server, win.changed = False, True
        win.drop_pending()

    def decimated(self):
        """{(window, trace): (logged, shown)} for traces whose plot is decimated."""
        # Snapshots (list(...)): the logger's thread may call this while the sender adds windows.
        return {(name, tn): (t.logged, len(t.xs)) for name, win in list(self.windows.items())
                for tn, t in list(win.traces.items()) if t.logged > len(t.xs)}


def _gap(value):
    value = journal_mod.decode_number(value)
    return None if value is None or (isinstance(value, float) and not math.isfinite(value)) else value


def _pane_opts(opts):
    return {k: opts[k] for k in ("title", "width", "height") if opts.get(k) is not None}


# ----------------------------------------------------------------------------- converting values


def is_tensor(value):
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(value, torch.Tensor)


def number(value):
    """Python/NumPy number or one-element tensor -> int or float (reads tensors: sender thread only)."""
    if is_tensor(value) or isinstance(value, (np.generic, np.ndarray)):
        value = value.item()
    return value if isinstance(value, int) and not isinstance(value, bool) else float(value)


def numbers(values):
    if is_tensor(values):
        values = values.detach().cpu().numpy()
    return [number(v) for v in np.asarray(values, dtype=object).reshape(-1)]


# ----------------------------------------------------------------------------- HTTP


class ServerRefused(Exception):
    """The server answered, but not with a success."""

    def __init__(self, message, status):
        super().__init__(message)
        self.status = status


class Connection:
    def __init__(self, server, port, username=None, password=None, timeout=(3.0, 30.0)):
        if "://" not in server:
            server = "http://" + server
        self.url = f"{server.rstrip('/')}:{port}"
        self.username = username
        # The client protocol: the server compares sha256(sha256(password)); send one round.
        self._password_hash = hashlib.sha256(password.encode()).hexdigest() if password else None
        self.timeout = timeout
        self.session = requests.Session()

    @classmethod
    def from_environment(cls, server, port):
        """A connection with the credentials in VISDOM_USERNAME / VISDOM_PASSWORD (never from code)."""
        return cls(server, port, os.environ.get("VISDOM_USERNAME"), os.environ.get("VISDOM_PASSWORD"))

    def login(self):
        reply = self.session.post(self.url + "/", json={"username": self.username,
                                                        "password": self._password_hash},
                                  timeout=self.timeout)
        if reply.status_code != 200:
            raise ServerRefused(f"login as {self.username!r} refused by {self.url} "
                                "(check VISDOM_USERNAME/VISDOM_PASSWORD)", 400)

    def post(self, endpoint, message):
        """Reply text; raises requests.RequestException when unreachable, ServerRefused on 4xx/5xx."""
        body = json.dumps(message, separators=(",", ":"))
        reply = self.session.post(f"{self.url}/{endpoint}", data=body, timeout=self.timeout)
        if reply.status_code == 400 and self.username:
            self.login()  # first request, or the server restarted with a new cookie secret
            reply = self.session.post(f"{self.url}/{endpoint}", data=body, timeout=self.timeout)
        if reply.status_code == 400 and not self.username:
            raise ServerRefused(f"{self.url} requires a login: set VISDOM_USERNAME and VISDOM_PASSWORD", 400)
        if reply.status_code != 200:
            raise ServerRefused(f"{self.url}/{endpoint} answered HTTP {reply.status_code}",
                                reply.status_code)
        return reply.text


# ----------------------------------------------------------------------------- the thread

PACE = 20   # wait 20x as long as the last round of requests took before sending again


def say(message):
    print(f"vizlab: {message}", file=sys.stderr, flush=True)


class Sender(threading.Thread):
    """Drains `queue` (filled by VisdomLogger) every `interval` seconds or when woken."""

    def __init__(self, queue, env, connection, journal, max_points, interval=0.5,
                 verify_every=10.0):
        super().__init__(name="vizlab-sender", daemon=True)
        self.queue = queue
        self.windows = Windows(env, max_points)
        self.connection = connection      # None: journal only
        self.journal = journal            # None: no journal
        self.interval = interval
        self.verify_every = verify_every
        self.processed = 0                # events taken off the queue
        self.done = 0                     # events whose effect is fully on the server
        self.counts = {"nonfinite": 0, "errors": 0, "refused": 0}
        self.unreachable_since = None
        self._failures = 0
        self._next_try = 0.0              # retry backoff while the server is unreachable
        self._next_send = 0.0             # pacing of sends to a busy server
        self._next_verify = time.monotonic() + verify_every
        self._verify_asked = 0            # verification requests (flush, reconnect, refused append)
        self._verify_done = 0             # the last request a completed check covered
        self._warned = set()
        self._waiters = 0
        self._stopping = False
        self._wake = threading.Event()
        self._cond = threading.Condition()
        if journal is not None:
            journal.write({"op": "start", "env": env, "max_points": max_points, "time": time.time()})

    # --- called from the logger's thread
    def wait(self, target, timeout, give_up_down=None):
        """True once the first `target` events are on the server (and verified to be there).

        give_up_down: return False early once the server has not answered for this many seconds.
        """
        deadline = time.monotonic() + timeout
        with self._cond:
            self._waiters += 1
            if self.connection is not None:
                self._verify_asked += 1
            ask = self._verify_asked
            self._next_try = 0.0      # a waiting caller should not sit out a long backoff
        try:
            while True:
                self._wake.set()
                with self._cond:
                    if self._cond.wait_for(lambda: self.done >= target and self._verify_done >= ask,
                                           timeout=min(0.5, max(0.0, deadline - time.monotonic()))):
                        return True
                if time.monotonic() >= deadline or not self.is_alive():
                    return False
                down_since = self.unreachable_since
                if give_up_down is not None and down_since is not None and \
                        time.monotonic() - down_since >= give_up_down:
                    return False
        finally:
            with self._cond:
                self._waiters -= 1

    def stop(self, timeout=5.0):
        self._stopping = True
        self._wake.set()
        self.join(timeout)
        if self.journal is not None:
            self.journal.close()

    # --- the thread
    def run(self):
        while not self._stopping:
            self._wake.wait(self.interval)
            self._wake.clear()
            try:
                self._cycle()
            except Exception as err:  # the thread must never die: count, warn once, go on
                self.counts["errors"] += 1
                self.warn_once("internal", f"sender error ({type(err).__name__}: {err}); "
                               "logging continues, the journal keeps every event")

    def _cycle(self):
        self._drain()
        if self.journal is not None:
            self.journal.flush()
        if self.connection is None:
            self._finished()
            return
        now = time.monotonic()
        if now < self._next_try or (now < self._next_send and not self._waiters):
            return
        try:
            self._deliver()
            # Visdom's append gets slower as a plot grows (it copies and diffs the whole pane):
            # pace the sends so the server uses at most ~1/PACE of a core beside the training.
            self._next_send = now + PACE * (time.monotonic() - now)
        except requests.RequestException as err:
            self._unreachable(err)
            return
        except ServerRefused as err:   # e.g. login missing or refused
            self.warn_once(str(err), f"{err}; points are kept and retried")
            self._unreachable(err, warn=False)
            return
        if self.unreachable_since is not None:
            say(f"Visdom at {self.connection.url} answers again; sending everything pending")
            self.unreachable_since = None
            self._warned.discard("unreachable")
        self._failures = 0
        self._finished()

    def _finished(self):
        with self._cond:
            synced = self.connection is None or (
                not self.windows.changed() and self._verify_done >= self._verify_asked)
            if not self.queue and synced:
                self.done = self.processed
            self._cond.notify_all()

    def _unreachable(self, err, warn=True):
        if self.unreachable_since is None:
            self.unreachable_since = time.monotonic()
            self._verify_asked += 1  # when it answers again it may be a fresh, empty server
        if warn:
            self.warn_once("unreachable", f"Visdom at {self.connection.url} is not answering "
                           f"({type(err).__name__}); training continues and every point is kept "
                           f"and sent when it answers" + self._journal_hint())
        self._failures += 1
        backoff = min(5.0, 0.25 * 2 ** self._failures)
        self._next_try = time.monotonic() + (min(backoff, 0.5) if self._waiters else backoff)

    def _journal_hint(self):
        return f" (journal: {self.journal.path})" if self.journal is not None else ""

    def _drain(self):
        while self.queue:
            event = self.queue.popleft()
            self.processed += 1
            try:
                record = self._record(event)
            except Exception as err:
                self.counts["errors"] += 1
                self.warn_once(f"event:{event[0]}", f"could not log {event[0]} to window {event[1]!r} "
                               f"({type(err).__name__}: {err}); other windows are unaffected")
                continue
            if self.journal is not None:
                try:
                    self.journal.write(record)
                except (OSError, ValueError) as err:   # disk full, closed file: still plot it
                    self.counts["errors"] += 1
                    self.warn_once("journal", f"could not write the journal {self.journal.path} ({err})")
            self.windows.apply(record)

    def _deliver(self):
        if self._verify_asked > self._verify_done or time.monotonic() >= self._next_verify:
            self._check_windows()
        self._send_changed()
        if self._verify_asked > self._verify_done:  # an append was refused: rebuild what was lost
            self._check_windows()
            self._send_changed()

    def _send_changed(self):
        for name in self.windows.changed():
            endpoint, message, whole = self.windows.request(name)
            try:
                self.connection.post(endpoint, message)
            except ServerRefused as err:
                if err.status == 400:
                    raise  # login missing or refused: keep everything and retry later
                if whole:
                    # The server rejects this window's content; it stays in the journal.
                    self.counts["refused"] += 1
                    self.warn_once(f"refused:{name}", f"{err} for window {name!r}; it is skipped "
                                   "on this server (the journal keeps it)")
                else:
                    # An append the server refused: it no longer has the window (restarted).
                    self.windows.lost(name)
                    self._verify_asked += 1
                    endpoint, message, _ = self.windows.request(name)
                    self.connection.post(endpoint, message)
            self.windows.delivered(name)

    def _check_windows(self):
        """Ask the server for each window it should have; mark the missing ones to be rebuilt."""
        asked = self._verify_asked
        for name, win in self.windows.windows.items():
            if win.on_server:
                reply = self.connection.post("win_exists", {"win": name, "eid": self.windows.env})
                if reply.strip() != "true":
                    self.windows.lost(name)
        self._verify_done = asked
        self._next_verify = time.monotonic() + self.verify_every

    # --- events -> journal records
    def _record(self, event):
        op, win = event[0], event[1]
        if op == "scalars":
            _, _, x, values, opts = event
            x = number(x)
            if isinstance(x, float) and not math.isfinite(x):
                raise ValueError(f"x is {x}; it must be finite")
            y = {trace: self._finite(number(v), win, trace) for trace, v in values.items()}
            record = {"op": op, "win": win, "x": x, "y": y}
        elif op == "line":
            _, _, x, ys, opts = event
            record = {"op": op, "win": win, "x": numbers(x),
                      "y": {n: [self._finite(v, win, n) for v in numbers(seq)] for n, seq in ys.items()}}
        elif op == "images":
            from vizlab.render import draw_labels, png_data_url   # Pillow: only when images come

            _, _, grid, (tile_h, tile_w, columns), labels, preds, opts = event
            grid = draw_labels(grid, tile_h, tile_w, columns, _labels(labels), _labels(preds))
            opts = dict(opts)
            opts.setdefault("width", int(grid.shape[1]))
            opts.setdefault("height", int(grid.shape[0]))
            record = {"op": "image", "win": win, "src": png_data_url(grid)}
        elif op == "text":
            _, _, html, opts = event
            record = {"op": op, "win": win, "html": html}
        elif op == "figure":
            _, _, traces, layout, opts = event
            record = {"op": op, "win": win, "traces": traces, "layout": layout}
        else:
            raise ValueError(f"unknown event {op!r}")
        if opts:
            record["opts"] = opts
        return record

    def _finite(self, value, win, trace):
        if isinstance(value, float) and not math.isfinite(value):
            self.counts["nonfinite"] += 1
            self.warn_once("nonfinite", f"{value} in window {win!r} trace {trace!r}: shown as a gap "
                           "(NaN/Inf values are counted; see the summary at close)")
            return journal_mod.encode_number(value)
        return value

    def warn_once(self, key, message):
        if key not in self._warned:
            self._warned.add(key)
            say(message)


def _labels(values):
    if values is None:
        return None
    if is_tensor(values):
        values = values.detach().cpu().tolist()
    return [v.item() if isinstance(v, np.generic) else v for v in list(values)]
