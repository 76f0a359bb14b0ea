"""The watchdog's settings and its spike test: what VisdomLogger(watchdog=...) checks, and one
trace's median/MAD level (the status pane's Tracker runs them on the journal thread)."""

import collections
import dataclasses
import math


@dataclasses.dataclass(frozen=True)
class Watchdog:
    """What the watchdog checks (VisdomLogger(watchdog=Watchdog(...)); watchdog=False: nothing).

    nan: alert on a NaN/Inf value in any trace. spike: alert when a value is more than this many
    MADs (scaled to a normal sigma) above the median of the trace's `spike_window` values before
    (None: off); checked on traces whose window or trace name contains `spike_traces` (any case;
    "" checks every trace). stall: alert after this many seconds without a logging call (None:
    off). every: seconds before the same alert (kind, window, trace) is raised again."""
    nan: bool = True
    spike: float = 10.0
    spike_window: int = 100
    spike_traces: str = "loss"
    stall: float = 300.0
    every: float = 60.0

    def __post_init__(self):
        for name in ("spike", "stall"):
            value = getattr(self, name)
            if value is not None and (not number(value) or not value > 0):
                raise ValueError(f"Watchdog({name}={value!r}): use a positive number, or None for off")
        if not number(self.every) or self.every < 0:
            raise ValueError(f"Watchdog(every={self.every!r}): use seconds >= 0 (default 60)")
        if type(self.spike_window) is not int or self.spike_window < 10:
            raise ValueError(f"Watchdog(spike_window={self.spike_window!r}): use an integer >= 10 (default 100)")
        if not isinstance(self.spike_traces, str):
            raise TypeError(f"Watchdog(spike_traces={self.spike_traces!r}): use a str ('' for every trace)")


def number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def watchdog_of(value):
    """VisdomLogger's watchdog= argument -> a Watchdog or None."""
    if value is True:
        return Watchdog()
    if value is False or value is None:
        return None
    if isinstance(value, Watchdog):
        return value
    raise TypeError(f"watchdog={value!r}: use True, False or vizlab.Watchdog(...)")


class Spikes:
    """One trace's recent values and the level above which a value is a spike: the median plus
    `limit` scaled MADs of the last `size` values, recomputed once per `size` new values (the
    sorts are the cost); a chunk of values is checked with one max() against the level before it."""

    def __init__(self, size, limit):
        self.values = collections.deque(maxlen=size)
        self.every, self.limit = size, limit
        self.fresh = 0
        self.median = self.scale = self.level = None

    def room(self):
        return self.every - self.fresh

    def extend(self, values):
        self.values.extend(values)
        self.fresh += len(values)
        if self.fresh >= self.every:
            self.fresh = 0
            ordered = sorted(self.values)
            self.median = med = _median(ordered)
            mad = _median(sorted([abs(v - med) for v in ordered]))
            self.scale = max(1.4826 * mad, 1e-3 * abs(med), 1e-12)   # constant traces: not 0
            self.level = med + self.limit * self.scale


def _median(ordered):
    n = len(ordered)
    return ordered[n // 2] if n % 2 else 0.5 * (ordered[n // 2 - 1] + ordered[n // 2])
