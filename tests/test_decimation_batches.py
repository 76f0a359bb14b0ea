"""Trace.extend takes a batch a run of points at a time (vizlab.decimation._add_runs); what it
keeps must be exactly what add() point by point keeps: the buckets (their first minimum and first
maximum), the log, the open segment, the appends the sender takes, the stride and its doublings."""

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from vizlab.decimation import Trace


def state(trace):
    return (trace.logged, trace.last, trace.stride, trace.x0, trace.top, trace.stale, trace.doublings,
            trace.rebuilds, trace.buckets, trace.log, trace.seg, trace.seg_k, trace.seg_last,
            trace.xs, trace.ys, trace.new_xs, trace.new_ys)


def one_by_one(trace, xs, ys):
    whole = False
    for x, y in zip(xs, ys):
        whole = trace.add(x, y) or whole
    return whole


def batches(seed, n, steps, ints, gaps, back):
    """Points in batches of many sizes: x rising by random steps (ints or floats), y noise with
    ties, now and then a gap or an x before the latest."""
    rnd = random.Random(seed)
    x, out = 0, []
    while n > 0:
        size = min(n, rnd.choice([1, 3, 15, 16, 17, 100, 700, 5000]))
        xs, ys = [], []
        for _ in range(size):
            x += rnd.choice(steps)
            if back and rnd.random() < 0.001:
                x -= rnd.choice(steps) * 50
            xs.append(int(x) if ints else float(x))
            y = round(rnd.gauss(0, 1), 1)
            ys.append(None if gaps and rnd.random() < 0.01 else (int(y * 10) if rnd.random() < 0.2 else y))
        out.append((xs, ys))
        n -= size
    return out


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 10**6), max_points=st.sampled_from([10, 11, 64, 301, 1000]),
       n=st.integers(0, 30_000), steps=st.sampled_from([[1], [1, 2, 7], [0.1, 0.25], [0, 1], [3.5e6]]),
       ints=st.booleans(), gaps=st.booleans(), back=st.booleans(), send_every=st.sampled_from([0, 1, 3]))
def test_a_batch_keeps_what_point_by_point_keeps(seed, max_points, n, steps, ints, gaps, back, send_every):
    batched, single = Trace(max_points), Trace(max_points)
    for i, (xs, ys) in enumerate(batches(seed, n, steps, ints, gaps, back)):
        assert batched.extend(list(xs), list(ys)) == one_by_one(single, xs, ys)
        assert state(batched) == state(single)
        if send_every and i % send_every == 0:   # the sender takes the appends (seals, rebuilds)
            assert batched.take_new() == single.take_new()
    assert batched.shown() == single.shown()
    assert state(batched) == state(single)


def test_a_long_fast_run_doubles_and_stays_equal():
    """A million points in batches of 8192, as a fast loop's journal thread takes them."""
    batched, single = Trace(10_000), Trace(10_000)
    rnd = random.Random(1)
    for start in range(0, 1_000_000, 8192):
        xs = list(range(start, start + 8192))
        ys = [rnd.random() for _ in xs]
        assert batched.extend(xs, ys) == one_by_one(single, xs, ys)
        if start % (8192 * 4) == 0:
            assert batched.take_new() == single.take_new()
    assert batched.doublings == single.doublings > 3
    assert state(batched) == state(single)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10**6), weight=st.sampled_from([0.1, 0.6, 0.99]),
       sizes=st.lists(st.sampled_from([1, 2, 50, 300]), min_size=1, max_size=30), gaps=st.booleans())
def test_smoothing_a_batch_gives_tensorboards_values(seed, weight, sizes, gaps):
    """Smoother.smooth takes a run of floats past the start in one comprehension; each value must
    be TensorBoard's debiased EMA, whatever the batches (vizlab.smoothing)."""
    from vizlab.smoothing import Smoother

    rnd = random.Random(seed)
    smoother, last, n, gap_first = Smoother(weight), 0.0, 0, False
    for size in sizes:
        ys = [None if gaps and rnd.random() < 0.05 else rnd.uniform(-5, 5) for _ in range(size)]
        expected = []
        for y in ys:
            if y is None:
                expected.append(None)
                gap_first = gap_first or n == 0
                continue
            last, n = last * weight + (1 - weight) * y, n + 1
            # the first value alone is a constant series: drawn as it is (TensorBoard #786)
            expected.append(y if n == 1 and not gap_first else last / (1 - weight ** n))
        assert smoother.smooth(ys) == expected
