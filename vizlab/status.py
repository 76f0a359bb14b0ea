"""The run status pane (window `status`) and the watchdog, both run on the journal thread.

Tracker (journal thread only) sees every record: the latest step (the largest x of scalar calls),
the time of the last call, and, with a Watchdog, every value (NaN/Inf, loss spikes) and the time
between calls (stalls). It makes "status" records: journaled when the state changes, on an alert
and at the end (so `vizlab replay` draws the final pane), shown live only otherwise (the clock,
elapsed, steps/s). StatusPane (the window model, live and on replay) turns them into the pane's
HTML. The crash hooks and signals only set `Tracker.ending`; the journal thread does the rest.
The watchdog's settings and spike test are in vizlab.watchdog.
No torch here, nor the logger: the window model and replay import this module.
"""

import collections
import html
import sys
import threading
import time

from tqdm import tqdm

from vizlab.watchdog import Spikes, Watchdog, number as _number, watchdog_of  # noqa: F401 (Watchdog, watchdog_of: imported from here too)


WIN = "status"
OPTS = {"title": "run status", "width": 420, "height": 250}   # the table and the meter; alerts scroll
IGNORED = "system_"      # vizlab.logger.system's windows: a clock, neither steps nor signs of life
REFRESH = 1.0            # seconds between live redraws (the clock and elapsed)
RATE_WINDOW = 30.0       # steps/s is measured over about this many recent seconds
MAX_ALERTS = 8           # alerts the pane lists (the latest); the journal keeps them all
MAX_MARKS = 20           # dashed marks per window (the latest)
# A run whose record is not whole never reads a plain "finished"; the pane says so in a warning colour
JOURNAL_INCOMPLETE, LIVE_VIEW_INCOMPLETE = "finished, journal incomplete", "finished, live view incomplete"
COLOURS = {"running": "#1f77b4", "finished": "#2ca02c", "crashed": "#d62728", "interrupted": "#ff7f0e",
           JOURNAL_INCOMPLETE: "#b8860b", LIVE_VIEW_INCOMPLETE: "#b8860b"}


def check_total(total):
    if type(total) is float and total.is_integer():
        total = int(total)   # 10.0 is 10: the meter says 10/10
    if total is not None and (type(total) is not int or total < 1):
        raise ValueError(f"total_steps={total!r}: use a positive integer (the last step), or None")
    return total


class Tracker:
    """The run's state, step and rate, and the watchdog; its methods run on the journal thread
    except `end`, which any thread (a hook, close, a signal handler) may call."""

    def __init__(self, watchdog=None, total=None, clock=time.time, say=None):
        self.dog, self.total, self.clock = watchdog, total, clock
        self.say = say or (lambda message: None)   # one stderr line per alert (the logger's notices)
        self.started = clock()
        self.state, self.error = "running", None
        self.ending = None            # (state, error) set by end(): taken by the journal thread
        self.step = self.last_call = None
        self.first = None             # (time, step) of the first scalar call: the mean rate
        self.samples = collections.deque()   # (time, step): the recent rate
        self.stalled = False
        self.shown = 0.0
        self._spikes = {}             # (win, trace) -> Spikes, or None when not checked
        self._alerted = {}            # alert key -> when it was raised
        self.kept = None              # () -> (calls accepted, calls journaled), read at the end
        self.xlabels, self.plotted = {}, set()   # window -> its x label; windows with points: the unit
        self.posted = collections.deque()   # (kind, message) alerts from any thread: shown at the next tick

    def end(self, state, error=None):
        """The run ended (or will): `state` is shown from the next redraw on. The first crash or
        interrupt stays: the close that follows it does not make the run "finished"."""
        if self.ending is None or self.ending[0] == "finished":
            self.ending = (state, error)

    def post(self, message, kind="user"):
        """An alert (a user's: log.alert, wandb.alert; a notebook cell's error: kind "cell"), from
        any thread: a row of the pane from the next tick on; the run stays as it is."""
        self.posted.append((kind, message))   # deque.append is atomic: no lock for the journal thread

    # --- the journal thread
    def begin(self):
        return self.record(self.started)

    def observe(self, records, now):
        """Follow the step, check the values; returns the alert records (to journal)."""
        alerts = []
        for record in records:
            op = record["op"]
            if record["win"].startswith(IGNORED):
                continue
            self.last_call = now
            xlabel = (record.get("opts") or {}).get("xlabel")
            if isinstance(xlabel, str):
                self.xlabels[record["win"]] = xlabel
            if op not in ("points", "scalars"):
                continue
            self.plotted.add(record["win"])
            xs, ys = (record["x"], record["y"]) if op == "points" else \
                ([record["x"]], {t: [v] for t, v in record["y"].items()})
            top = max(xs)
            if self.step is None or top > self.step:
                self.step = top
            if self.dog is not None:
                self._check(record["win"], xs, ys, now, alerts)
        if self.step is not None:
            self._sample(now)
        if self.stalled and self.last_call == now:
            self.stalled = False
        return alerts

    def tick(self, now):
        """(record, journal it?) for a redraw now, or (None, False) when none is due."""
        if self.ending is not None and self.ending[0] != self.state:
            self.state, self.error = self.ending
            return self.record(now), True
        if self.posted:
            kind, message = self.posted.popleft()
            return self.record(now, {"kind": kind, "win": None, "trace": None, "x": self.step, "time": now,
                                     "message": message}), True
        dog, last = self.dog, self.last_call or self.started
        if dog is not None and dog.stall is not None and not self.stalled and now - last >= dog.stall:
            self.stalled = True
            where = f"the last at step {self.step}, " if self.step is not None else "the last "
            return self._alert(now, "stall", None, None, None, f"no logging call for "
                               f"{tqdm.format_interval(now - last)} ({where}{_clock(last)})"), True
        if now - self.shown >= REFRESH:
            return self.record(now), False
        return None, False

    def final(self, now):
        """The last record (at close): the state set by end(), else finished; "finished, journal
        incomplete" with the count when the journal lacks calls that were accepted."""
        self.state, self.error = self.ending or ("finished", None)
        accepted, journaled = self.kept() if self.kept is not None else (0, 0)
        if self.state == "finished" and journaled < accepted:
            self.state, self.error = JOURNAL_INCOMPLETE, f"it holds {journaled} of the {accepted} calls accepted"
        return self.record(now)

    def record(self, now, alert=None):
        self.shown = now
        record = {"op": "status", "win": WIN, "state": self.state, "time": now,
                  "started": self.started, "last_call": self.last_call, "step": self.step,
                  "rate": self._rate(now), "total": self.total}
        if self.plotted and all(self.xlabels.get(w, "").lower().startswith("epoch") for w in self.plotted):
            record["unit"] = "epoch"   # every plotted window's x is epochs: the pane says so
        if self.error:
            record["error"] = self.error
        if self.stalled:
            record["stalled"] = True
        if alert:
            record["alert"] = alert
        return record

    def _sample(self, now):
        samples = self.samples
        if self.first is None:
            self.first = (now, self.step)
        samples.append((now, self.step))
        while len(samples) > 2 and samples[1][0] < now - RATE_WINDOW:
            samples.popleft()

    def _rate(self, now):
        """Steps per second: over the recent samples while running, the whole run's mean after."""
        if self.step is None:
            return None
        start = (self.started, 0)   # no scalar call measured yet (an alert in the first batch)
        t0, s0 = (self.first or start) if self.state != "running" else (self.samples or [start])[0]
        t1 = self.last_call if self.state != "running" else now
        if t1 - t0 <= 0 or self.step == s0:   # one batch so far: since the start, as tqdm does
            t0, s0 = self.started, min(0, s0)
        return (self.step - s0) / (t1 - t0) if t1 > t0 else None

    def _check(self, win, xs, ys, now, alerts):
        dog = self.dog
        for trace, values in ys.items():
            gaps = str in set(map(type, values))   # the journal writes NaN/Inf as "nan", ...
            if dog.spike is not None:
                key = (win, trace)
                spikes = self._spikes.get(key, False)
                if spikes is False:   # decided once per trace: checked, or not
                    wanted = dog.spike_traces.lower()
                    spikes = self._spikes[key] = Spikes(dog.spike_window, dog.spike) \
                        if wanted in win.lower() or wanted in trace.lower() else None
                if spikes is not None:
                    self._spikes_in(spikes, win, trace, xs, values, gaps, now, alerts)
            if dog.nan and gaps:
                i = next(i for i, v in enumerate(values) if type(v) is str)
                what = {"nan": "NaN", "inf": "+Inf", "-inf": "-Inf"}.get(values[i], values[i])
                self._maybe(alerts, now, "nan", win, trace, xs[i],
                            f"{what} in window {win!r} trace {trace!r} at step {xs[i]}")

    def _spikes_in(self, spikes, win, trace, xs, values, gaps, now, alerts):
        """Each chunk up to the next recompute is checked against the level before it."""
        start = 0
        while start < len(values):
            end = start + spikes.room()
            chunk = values[start:end]
            finite = [v for v in chunk if type(v) is not str] if gaps else chunk
            if spikes.level is not None and finite and max(finite) > spikes.level:
                x, v = next((x, v) for x, v in zip(xs[start:end], chunk)
                            if type(v) is not str and v > spikes.level)
                self._maybe(alerts, now, "spike", win, trace, x,
                            f"spike in window {win!r} trace {trace!r} at step {x}: {v:.4g} "
                            f"(median {spikes.median:.4g}, {(v - spikes.median) / spikes.scale:.0f} "
                            f"MADs above; the threshold is {spikes.limit:g})")
            spikes.extend(finite)
            start = end

    def _maybe(self, alerts, now, kind, win, trace, x, message):
        key = (kind, win, trace)
        last = self._alerted.get(key)
        if last is not None and now - last < self.dog.every:
            return
        self._alerted[key] = now
        alerts.append(self._alert(now, kind, win, trace, x, message))

    def _alert(self, now, kind, win, trace, x, message):
        self.say(f"watchdog: {message}")
        return self.record(now, {"kind": kind, "win": win, "trace": trace, "x": x, "time": now,
                                 "message": message})


class StatusPane:
    """The pane drawn from status records (the window model holds one): the latest record, and
    the alerts seen, the latest first."""

    def __init__(self):
        self.last = None
        self.alerts = collections.deque(maxlen=MAX_ALERTS)

    def apply(self, record):
        """Take one status record; returns its alert, or None."""
        self.last = record
        alert = record.get("alert")
        if isinstance(alert, dict):
            self.alerts.appendleft(alert)
            return alert
        return None

    def message(self):
        return {"data": [{"content": self.html(), "type": "text"}], "opts": dict(OPTS)}

    def html(self):
        r = self.last
        state, error = r.get("state", "running"), r.get("error")
        now, started = r.get("time"), r.get("started")
        head = state + (f": {error}" if error else "") + (" (stalled: no logging call)" if r.get("stalled") else "")
        unit, rate = r.get("unit", "step"), r.get("rate")
        pace = (f"s/{unit}", _rate(1 / rate)) if _number(rate) and 0 < rate < 1 else (f"{unit}s/s", _rate(rate))
        rows = [("started", _clock(started, date=True)), ("last update", _clock(r.get("last_call"))),
                ("elapsed", _interval(now - started) if _number(now) and _number(started) else "-"),
                (unit, _plain(r.get("step"))), pace]
        eta = _eta(r)
        if eta:
            rows.append(("ETA", eta))
        table = "".join(f"<tr><td style='color:#666;padding-right:12px'>{k}</td><td>{_text(v)}</td></tr>"
                        for k, v in rows)
        meter = _meter(r)
        parts = [f"<div style='font-family:sans-serif;font-size:13px'>"
                 f"<div data-state='{html.escape(state)}' style='font-size:16px;font-weight:bold;"
                 f"color:{COLOURS.get(state, '#333')}'>{_text(head)}</div>",
                 f"<table style='margin-top:6px'>{table}</table>"]
        if meter:
            parts.append(f"<pre style='margin:6px 0;font-size:11px'>{_text(meter)}</pre>")
        if self.alerts:
            items = "".join(f"<li>{_text(_clock(a.get('time')))} {_text(str(a.get('message')))}</li>"
                            for a in self.alerts)
            parts.append(f"<div style='margin-top:6px;color:#d62728'><b>alerts</b>"
                         f"<ul style='margin:2px 0;padding-left:18px'>{items}</ul></div>")
        return "".join(parts) + "</div>"


def _text(text):
    return html.escape(text, quote=False)   # element text: quotes may stay as they are


def _meter(r):
    total, step, now, started = r.get("total"), r.get("step"), r.get("time"), r.get("started")
    if not all(map(_number, (total, step, now, started))) or total < 1:
        return None
    rate = r.get("rate") if _number(r.get("rate")) and r.get("rate") > 0 else None
    step = int(step) if isinstance(step, float) and step.is_integer() else step   # 10/10, not 10.0/10
    return tqdm.format_meter(step, total, now - started, ncols=54, rate=rate, unit=r.get("unit", "step"))


def _eta(r):
    total, step, rate, now = r.get("total"), r.get("step"), r.get("rate"), r.get("time")
    if r.get("state") != "running" or not all(map(_number, (total, step, rate, now))) or rate <= 0:
        return None
    left = max(0.0, (total - step) / rate)
    return f"{_clock(now + left)} (in {tqdm.format_interval(left)})"


def _clock(t, date=False):
    if not _number(t):
        return "-"
    return time.strftime("%Y-%m-%d %H:%M:%S" if date else "%H:%M:%S", time.localtime(t))


def _interval(seconds):
    return tqdm.format_interval(max(0.0, seconds))


def _plain(value):
    return "-" if value is None else f"{value:g}" if isinstance(value, float) else str(value)


def _rate(rate):
    return "-" if not _number(rate) else f"{rate:,.0f}" if rate >= 100 else f"{rate:.3g}"


# --- crash and interrupt hooks (installed once per process, chained to the previous ones)

_hooks = [False]


def install_hooks(loggers):
    """sys.excepthook and threading.excepthook mark every open logger's run crashed (or
    interrupted, for KeyboardInterrupt), then call the hook that was there: the traceback still
    prints and the exit status is unchanged. `loggers()` lists the open loggers."""
    if _hooks[0]:
        return
    _hooks[0] = True
    previous_sys, previous_thread = sys.excepthook, threading.excepthook

    def sys_hook(kind, value, tb):
        try:
            _ended(loggers, kind, value)
        finally:
            previous_sys(kind, value, tb)

    def thread_hook(args):
        try:
            _ended(loggers, args.exc_type, args.exc_value, args.thread)
        finally:
            previous_thread(args)

    sys.excepthook, threading.excepthook = sys_hook, thread_hook


def describe(kind, value, thread=None):
    """(state, error) of a run ended by this exception; None for SystemExit (sys.exit)."""
    if issubclass(kind, (SystemExit, GeneratorExit)):
        return None
    if issubclass(kind, KeyboardInterrupt):
        return "interrupted", "KeyboardInterrupt (SIGINT)"
    where = f" (in thread {thread.name!r})" if thread is not None else ""
    return "crashed", f"{kind.__name__}: {value}{where}"


def _ended(loggers, kind, value, thread=None):
    try:
        ended = describe(kind, value, thread)
        for log in loggers() if ended else ():
            log._ended(*ended)
    except Exception:   # a hook must never hide the error it reports
        pass
