"""Trace decimation: one line trace's shown points, every point while few, else the minimum and
maximum of each bucket of a fixed x-stride (doubled when there are too many), so the whole run stays
in view and a one-step spike anywhere stays visible. Pure (no I/O); the window model
(vizlab.windows) holds one Trace per line trace."""

import bisect

import numpy as np

MANY = 16   # points in one extend() worth taking a run at a time (the checks cost more below)
LONG_RUN = 32   # points per bucket from which galloping finds a batch's runs faster than NumPy


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
        self.buckets = {}                    # index -> (lo_x, lo_y, hi_x, hi_y, gap_x): every point
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
        self.buckets[k] = _into(b, x, y)
        if b is None:
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
            self.seg = _into(self.seg, x, y)
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
        if len(xs) < MANY or _has_gaps(ys) or not _ascending(xs):
            whole = False
            for x, y in zip(xs, ys):
                whole = self.add(x, y) or whole
            return whole
        if self.stride is None:
            self.add(xs[0], ys[0])        # past max_points: this one starts the buckets
            xs, ys = xs[1:], ys[1:]
        self._add_runs(xs, ys)
        return self.stale                 # every add() that returns True leaves the log stale

    def _add_runs(self, xs, ys):
        """add() for each point of (decimated, x ascending, no gaps), a run of points in one bucket
        at a time: the bucket's (and the open segment's) first minimum and first maximum, as add()
        keeps them. Runs that start new buckets are made together (_new_buckets) as far as no
        doubling and no full log can come on the way; the run where one may goes through add()."""
        runs = _runs(xs, 0, self.x0, self.stride)
        while runs:
            i, j, k = runs.pop()
            b, seg = self.buckets.get(k), self.seg
            if b is not None and b[1] is not None and (self.stale or (
                    k == self.seg_k and seg is not None and seg[1] is not None and xs[i] >= self.top)):
                run_x, run_y = xs[i:j], ys[i:j]
                lo, hi = _first_extremes(run_y)
                self.buckets[k] = _merge(b, run_x, run_y, lo, hi)
                if not self.stale:
                    self.seg = _merge(seg, run_x, run_y, lo, hi)
                    self.seg_last = (xs[j - 1], ys[j - 1])
                self.top = max(self.top, xs[j - 1])
                self.logged += j - i
                self.last = (xs[j - 1], ys[j - 1])
                continue
            room = self._room() if b is None and xs[i] >= self.top else 0
            if room:
                take = [(i, j, k), *runs[:-room:-1]]   # this run and the next room - 1
                for n, run in enumerate(take):   # only buckets not made yet: made together, they would replace one
                    if run[2] in self.buckets:
                        del take[n:]
                        break
                self._new_buckets(xs, ys, take)
                del runs[len(runs) + 1 - len(take):]
                continue
            stride = self.stride
            self.add(xs[i], ys[i])
            if self.stride != stride:     # doubled: the buckets of the points left change
                runs = _runs(xs, i + 1, self.x0, self.stride)
            elif i + 1 < j:
                runs.append((i + 1, j, k))

    def _room(self):
        """How many new buckets, one after the other, surely neither double the stride nor find the
        log full (a sealed bucket adds at most 2 points to it) when add() makes them."""
        room = self.buckets_max - len(self.buckets)
        if not self.stale:
            sealed = len(_shown_points(self.seg, None)) if self.seg is not None else 0
            left = self.max_points - 3 - len(self.log) - sealed
            room = min(room, left // 2 + 1) if left >= 0 else 0
        return max(room, 0)

    def _new_buckets(self, xs, ys, runs):
        """add() for each point of `runs` (in order, each a new bucket past the latest x, within
        _room()) at once: every run but the last is sealed into the log, the last is the open segment."""
        made = _run_buckets(xs, ys, runs)
        end = runs[-1][1]
        if not self.stale:
            sealed = _shown_points(self.seg, None) if self.seg is not None else []
            for _, b in made[:-1]:
                sealed += _shown_points(b, None)
            self.log += sealed
            self.new_xs += [p[0] for p in sealed]
            self.new_ys += [p[1] for p in sealed]
            self.seg_k, self.seg = made[-1]
            self.seg_last = (xs[end - 1], ys[end - 1])
        self.buckets.update(made)
        self.logged += end - runs[0][0]
        self.top = xs[end - 1]
        self.last = (xs[end - 1], ys[end - 1])

    def _start_buckets(self):
        xs, ys = self.xs, self.ys
        lo, hi = min(xs), max(xs)
        self.x0, self.top = lo, hi
        self.stride = (hi - lo) / max(1, self.buckets_max // 2) or 1.0
        self.xs, self.ys, self.new_xs, self.new_ys = [], [], [], []
        if not _has_gaps(ys) and _ascending(xs):   # a bucket per run: its first minimum and maximum
            self.buckets.update(_run_buckets(xs, ys, _runs(xs, 0, self.x0, self.stride)[::-1]))
        else:
            for x, y in zip(xs, ys):
                k = int((x - self.x0) // self.stride)
                self.buckets[k] = _into(self.buckets.get(k), x, y)
        self.stale = True

    def _double(self):
        """Twice the stride: merge neighbouring buckets, keeping the min and max of each pair."""
        self.stride *= 2
        self.doublings += 1
        merged = {}
        for k in sorted(self.buckets):
            b, m = self.buckets[k], merged.get(k // 2)
            if m is None:
                merged[k // 2] = b
                continue
            lo_x, lo_y, hi_x, hi_y, gap_x = m
            if b[4] is not None and (gap_x is None or b[4] < gap_x):
                gap_x = b[4]
            if b[1] is not None:
                if lo_y is None:
                    lo_x, lo_y, hi_x, hi_y = b[0], b[1], b[2], b[3]
                else:
                    if b[1] < lo_y:
                        lo_x, lo_y = b[0], b[1]
                    if b[3] > hi_y:
                        hi_x, hi_y = b[2], b[3]
            merged[k // 2] = (lo_x, lo_y, hi_x, hi_y, gap_x)
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
        self.seg = self.buckets[self.seg_k]
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
    """Bucket b = (lo_x, lo_y, hi_x, hi_y, gap_x) (None: a new one) with (x, y) in it.

    Buckets are tuples of numbers, replaced rather than changed: the garbage collector untracks
    them, so the many a long run makes never add up to a full collection over the whole process."""
    if b is None:
        return (x, y, x, y, x) if y is None else (x, y, x, y, None)
    if y is None:
        return b if b[4] is not None else (*b[:4], x)
    if b[1] is None:
        return (x, y, x, y, b[4])
    if y < b[1]:
        return (x, y, *b[2:])
    if y > b[3]:
        return (*b[:2], x, y, b[4])
    return b


def _shown_points(b, last):
    """A bucket's (or segment's) points on the plot: its min and max, or its gap; then `last`."""
    lo_x, lo_y, hi_x, hi_y, gap_x = b
    if lo_y is None:
        points = [(gap_x, None)]
    elif lo_x == hi_x and lo_y == hi_y:
        points = [(lo_x, lo_y)]
    elif hi_x < lo_x:   # in x order (at one x: the minimum first)
        points = [(hi_x, hi_y), (lo_x, lo_y)]
    else:
        points = [(lo_x, lo_y), (hi_x, hi_y)]
    if last is not None and last != points[-1] and last[0] >= points[-1][0]:
        points.append(last)
    return points


def _ascending(xs):
    """True if xs (finite ints and floats) never go down (Python's own comparisons: exact)."""
    return xs == sorted(xs)


def _has_gaps(ys):
    """True if ys may hold a gap (None): summing stops at the first None (C speed, no copy);
    anything else sum() refuses (an int beyond float range) is answered True too: the caller then
    takes the points one at a time, as add() does."""
    try:
        sum(ys)
    except (TypeError, OverflowError):
        return True
    return False


def _runs(xs, start, x0, stride):
    """The runs of points from `start` on that fall in one bucket (its index as add() computes it),
    as (first, end, index), the last run first. xs ascend, so the index never goes down: long runs
    are found by galloping then bisecting (a few index computations per run), short ones at once
    with NumPy (its float // is Python's; xs within 2**53, so float64 holds them exactly)."""
    n = len(xs)
    if start >= n:
        return []
    if (xs[-1] - xs[start]) / stride * LONG_RUN > n - start and abs(xs[start]) < 2**53 > abs(xs[-1]):
        ks = np.floor_divide(np.asarray(xs[start:], dtype=float) - x0, stride)
        firsts = np.concatenate(([0], np.flatnonzero(ks[1:] != ks[:-1]) + 1))
        ends = [*(firsts[1:] + start).tolist(), n]
        return list(zip((firsts + start).tolist(), ends, map(int, ks[firsts].tolist())))[::-1]

    def key(x):
        return (x - x0) // stride

    out, i = [], start
    while i < n:
        k = key(xs[i])
        step, lo = 1, i + 1   # xs[lo - 1] is in bucket k
        while lo + step - 1 < n and key(xs[lo + step - 1]) == k:
            lo, step = lo + step, step * 2
        end = bisect.bisect_right(xs, k, lo, min(n, lo + step - 1), key=key)
        out.append((i, end, int(k)))
        i = end
    return out[::-1]


def _run_buckets(xs, ys, runs):
    """[(index, bucket)] of runs (in order, no gaps): each bucket the first minimum and the first
    maximum of its run, as _into() point by point keeps them (short runs: found with NumPy)."""
    first, end = runs[0][0], runs[-1][1]
    found = _short_runs_extremes(ys, runs) if len(runs) * LONG_RUN > end - first else None
    if found is None:
        found = []
        for i, j, _ in runs:
            run = ys[i:j]
            found.append((i + run.index(min(run)), i + run.index(max(run))))
    return [(k, (xs[lo], ys[lo], xs[hi], ys[hi], None)) for (_, _, k), (lo, hi) in zip(runs, found)]


def _short_runs_extremes(ys, runs):
    """[(first minimum, first maximum)] of each run, or None where float64 may not hold ys exactly
    (an int past 2**53)."""
    first, end = runs[0][0], runs[-1][1]
    a = np.asarray(ys[first:end], dtype=float)
    if not np.abs(a).max() < 2**53 and any(type(y) is not float for y in ys[first:end]):
        return None
    starts = np.fromiter((r[0] for r in runs), dtype=np.intp, count=len(runs)) - first
    lengths = np.diff(starts, append=end - first)

    def firsts(values):   # the first index in each run where `a` equals the run's value
        at = np.flatnonzero(a == np.repeat(values, lengths))
        return (at[np.searchsorted(at, starts)] + first).tolist()

    return list(zip(firsts(np.minimum.reduceat(a, starts)), firsts(np.maximum.reduceat(a, starts))))


def _first_extremes(ys):
    """The index of the first minimum and of the first maximum of ys (what _into() keeps)."""
    return ys.index(min(ys)), ys.index(max(ys))


def _merge(b, xs, ys, lo, hi):
    """_into(b, x, y) for each point in order, given the first minimum and maximum of ys."""
    lo_x, lo_y, hi_x, hi_y, gap_x = b
    if ys[lo] < lo_y:
        lo_x, lo_y = xs[lo], ys[lo]
    if ys[hi] > hi_y:
        hi_x, hi_y = xs[hi], ys[hi]
    return lo_x, lo_y, hi_x, hi_y, gap_x
