"""The window model alone (no server): stride-bucket decimation keeps the whole run in view."""

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vizlab.windows import Trace, Windows


def feed(n, max_points, spikes, seed=0):
    """n points of a noisy curve with a spike (+1000 or -1000) at each position in `spikes`."""
    rng = random.Random(seed)
    trace = Trace(max_points)
    spikes = dict(spikes)
    for i in range(n):
        trace.add(i, spikes.get(i, rng.random()))
    return trace


def check_whole_run_in_view(trace, n, max_points, spikes):
    xs, ys = trace.shown()
    assert len(xs) <= max_points
    assert xs == sorted(xs) and xs[-1] == n - 1
    # Decimated, the view is buckets of one stride, 2 points each (min and max), and holds at least
    # a quarter of max_points: no stretch of the run between two shown points is wider than two
    # buckets, 16 * n / max_points. (A count per tenth is no bound: with ~40 points a tenth may
    # straddle bucket edges and hold 2.)
    if n > max_points:
        assert len(xs) >= max_points // 4, len(xs)
        widest = max(b - a for a, b in zip([0] + xs, xs + [n - 1]))
        assert widest <= 16 * n / max_points, (widest, n, max_points)
    shown = set(zip(xs, ys))
    for position, value in spikes:
        assert (position, value) in shown, f"spike at {position} lost"
    assert trace.logged == n


def spread_spikes(n, count, seed):
    """Random spikes, one per stretch of n/count points (two in one bucket cannot both be max)."""
    rng = random.Random(seed)
    stretch = n // count
    return [(k * stretch + rng.randrange(stretch), 1000.0 if k % 2 else -1000.0) for k in range(count)]


@pytest.mark.parametrize("n", [10**3, 10**5])
def test_shown_points_cover_the_whole_run_and_keep_spikes(n):
    spikes = spread_spikes(n, 10, seed=n)
    check_whole_run_in_view(feed(n, 500, spikes), n, 500, spikes)


@pytest.mark.slow
def test_ten_million_points_still_cover_the_whole_run():
    n, spikes = 10**7, spread_spikes(10**7, 20, seed=7)
    check_whole_run_in_view(feed(n, 10_000, spikes), n, 10_000, spikes)


@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 30_000), max_points=st.integers(10, 2_000), seed=st.integers(0, 10**6))
def test_any_length_and_limit(n, max_points, seed):
    """Tenths need a few buckets each: the coverage check starts at max_points=100."""
    spikes = spread_spikes(n, 3, seed) if n >= 3 * max_points else []
    trace = feed(n, max_points, spikes, seed)
    xs, _ = trace.shown()
    assert len(xs) <= max_points and xs == sorted(xs) and xs[-1] == n - 1
    if n <= max_points:
        assert xs == list(range(n))       # not decimated: every point
    elif max_points >= 100:
        check_whole_run_in_view(trace, n, max_points, spikes)


def test_all_gap_buckets_stay_gaps_and_x_may_go_back():
    trace = Trace(20)
    for i in range(100):
        trace.add(i, None if 40 <= i < 60 else float(i))
    trace.add(5, -99.0)                    # an x from the past lands in its bucket
    xs, ys = trace.shown()
    assert None in ys and -99.0 in ys and len(xs) <= 20


def test_resume_start_record_continues_instead_of_resetting():
    model = Windows("e", 100)
    model.apply({"op": "points", "win": "w", "x": [0, 1], "y": {"t": [1.0, 2.0]}})
    model.apply({"op": "start", "env": "e", "resume": True})
    model.apply({"op": "scalars", "win": "w", "x": 2, "y": {"t": 3.0}})
    assert model.windows["w"].traces["t"].shown() == ([0, 1, 2], [1.0, 2.0, 3.0])
    model.apply({"op": "start", "env": "e"})
    assert model.windows == {}
