"""TensorBoard's scalar smoothing, streamed: each per-step trace gets a smoothed companion.

The debiased exponential moving average of TensorBoard's scalars dashboard (`classicSmoothing`,
tensorboard/webapp/widgets/line_chart_v2/data_transformer.ts; `resmoothDataset` in
vz_line_chart2): for each finite y, `last = last * w + (1 - w) * y; n += 1;
smoothed = last / (1 - w ** n)`. A NaN/Inf (here a gap, None) stays a gap and does not count in n;
a series whose values all equal the first is drawn as it is (TensorBoard #786: the EMA's rounding
would show a constant as a wobble) -- streamed, that holds while every value so far equals the
first. The window model (vizlab.windows) feeds every raw point here on the journal thread, before
decimation; `pair` styles a trace and its companion the same way for the live view, replay and
compare.
"""

import math
import numbers

DEFAULT = 0.6        # TensorBoard's default weight
MIN_POINTS = 50      # a trace gets its companion once it holds this many points
FAINT = 0.3          # the raw trace's opacity beside its companion
SUFFIX = " (smoothed)"


def check_weight(value, arg="smoothing"):
    """A weight 0 <= w < 1 (NumPy numbers too) as a float; 0 turns smoothing off."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{arg}={value!r:.40}: use a number 0 <= w < 1 (TensorBoard's weight, "
                        f"default {DEFAULT}; 0 turns smoothing off)")
    value = float(value)
    if not 0 <= value < 1:
        raise ValueError(f"{arg}={value!r}: use 0 <= w < 1 (default {DEFAULT}; 0 turns smoothing "
                         "off; 1 would draw a flat line)")
    return value


def weight_or_off(value):
    """A weight read from a journal: a valid one, else 0 (off)."""
    try:
        return check_weight(value)
    except (TypeError, ValueError):
        return 0.0


class Smoother:
    """TensorBoard's debiased EMA over a stream of y values (None: a gap)."""

    __slots__ = ("weight", "last", "count", "first", "constant", "biased")

    def __init__(self, weight):
        self.weight = weight
        self.last, self.count = 0.0, 0
        self.first, self.constant = None, True   # every value so far equals the first
        self.biased = True                        # 1 - w ** count still differs from 1.0

    def smooth(self, ys):
        """The smoothed value of each y in ys, in order (None for a gap)."""
        w, keep = self.weight, 1 - self.weight
        last, count, first, constant, biased = self.last, self.count, self.first, self.constant, self.biased
        if not (biased or constant) and ys and set(map(type, ys)) == _FLOAT:
            # past the start (no debiasing, not constant) a run of floats is the plain EMA; NaN and
            # Inf are sticky, so a finite last value means every value on the way was finite
            out = [last := last * w + keep * y for y in ys]
            if last - last == 0:
                self.last, self.count = last, count + len(ys)
                return out
            last = self.last
        out = []
        for y in ys:
            if y is not None and type(y) is not float:
                y = _float(y)
            if y is None:
                constant = False           # TensorBoard: NaN == y is false, not constant
                out.append(None)
                continue
            if constant and y != first:
                if first is None:
                    first = y
                else:
                    constant = False
            last = last * w + keep * y
            count += 1
            smoothed = last
            if biased:   # once 1 - w ** count rounds to 1.0 it stays there: dividing is a no-op
                debias = 1 - w ** count
                smoothed, biased = last / debias, debias != 1.0
            if constant:
                smoothed = y
            out.append(smoothed if smoothed - smoothed == 0 else None)
        self.last, self.count, self.first, self.constant, self.biased = last, count, first, constant, biased
        return out


_FLOAT = {float}


def _float(y):
    try:
        y = float(y)
    except OverflowError:          # an int beyond float range: not drawable, a gap
        return None
    return y if math.isfinite(y) else None


def faint(color):
    """'#rrggbb' -> the same colour at FAINT opacity (only the line: its legend text stays)."""
    r, g, b = (int(color[i:i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{FAINT})"


def pair(raw, smoothed, color):
    """A raw Plotly trace drawn faint and its smoothed companion in `color`: one legend entry
    (the raw's name; a click hides both), the companion plain lines named '<name> (smoothed)'."""
    group = raw["name"]
    raw = dict(raw, legendgroup=group, line=dict(raw.get("line", {}), color=faint(color)))
    smoothed = {k: v for k, v in smoothed.items() if k not in ("marker", "fill")}
    smoothed.update(name=group + SUFFIX, legendgroup=group, showlegend=False, mode="lines",
                    line=dict(smoothed.get("line", {}), color=color))
    return raw, smoothed


def traces(entries):
    """A line window's Plotly traces from [(raw, smoothed or None, colour)]: every raw trace in
    order (faint where it has a companion), then the companions, drawn on top of them all."""
    raws, companions = [], []
    for raw, smoothed, color in entries:
        if smoothed is not None:
            raw, smoothed = pair(raw, smoothed, color)
            companions.append(smoothed)
        raws.append(raw)
    return raws + companions
