"""Smoothed companions: TensorBoard's debiased EMA over every raw point, read back from a real
server (live, replay, compare) and checked against a port of TensorBoard's own code."""

import json
import math
import random

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from visdom import Visdom

from test_liveview_appends import fake_sender, one_round
from vizlab import VisdomLogger, VisdomServer
from vizlab.cli.compare import compare
from vizlab.cli.replay import replay
from vizlab.smoothing import FAINT, MIN_POINTS, SUFFIX, Smoother
from vizlab.windows import Windows

pytestmark = pytest.mark.server   # starts or needs a real Visdom server


def tensorboard_smoothing(ys, weight):
    """TensorBoard's classicSmoothing (webapp/widgets/line_chart_v2/data_transformer.ts), line
    by line: a constant series is returned as it is (#786); a non-finite y passes through and
    does not count; else last = last * w + (1 - w) * y, divided by 1 - w ** numAccum."""
    initial = ys[0] if ys else None
    if all(y == initial for y in ys):
        return list(ys)
    last, num_accum, out = 0.0 if ys else math.nan, 0, []
    for y in ys:
        if not math.isfinite(y):
            out.append(y)
            continue
        last = last * weight + (1 - weight) * y
        num_accum += 1
        debias_weight = 1 if weight == 1 else 1 - weight ** num_accum
        out.append(last / debias_weight)
    return out


def noisy(n, seed=0):
    rng = random.Random(seed)
    return [2.0 / (1 + i / 50) + rng.gauss(0, 0.3) for i in range(n)]


def pane(port, env, win):
    viz = Visdom(port=port, raise_exceptions=True, use_incoming_socket=False)
    data = json.loads(viz.get_window_data(win, env=env))
    return {k: v for k, v in data.items() if k not in ("contentID", "i")}


def by_name(port, env, win):
    return {t["name"]: t for t in pane(port, env, win)["content"]["data"]}


def assert_matches(got, expected, tol=1e-9):
    """Smoothed values read back (None: a gap) against the oracle's (NaN: a gap)."""
    assert len(got) == len(expected)
    for g, e in zip(got, expected):
        if math.isfinite(e):
            assert g == pytest.approx(e, rel=tol, abs=tol)
        else:
            assert g is None


def test_the_smoothed_trace_is_tensorboards_ema_of_every_point(visdom_server):
    ys = noisy(938)
    ys[100], ys[500] = math.nan, math.inf
    with VisdomLogger(env="sm_live", port=visdom_server.port, journal=False) as log:
        for step, y in enumerate(ys):
            log.scalar("loss", step, y)
        log.scalar("loss_t", 0, np.float32(1.0))   # a trace that stays short: no companion
        assert log.flush(timeout=30)
    traces = by_name(visdom_server.port, "sm_live", "loss")
    raw, smoothed = traces["value"], traces["value" + SUFFIX]
    assert raw["x"] == smoothed["x"] == list(range(938))
    assert raw["y"][100] is None and raw["y"][500] is None
    assert_matches(smoothed["y"], tensorboard_smoothing(ys, 0.6))
    # drawn: raw faint in the trace's colour, one legend entry for the pair, smoothed on top
    data = pane(visdom_server.port, "sm_live", "loss")["content"]["data"]
    assert [t["name"] for t in data] == ["value", "value" + SUFFIX]
    assert raw["line"]["color"] == f"rgba(31,119,180,{FAINT})" and smoothed["line"]["color"] == "#1f77b4"
    assert raw["legendgroup"] == smoothed["legendgroup"] == "value"
    assert smoothed["showlegend"] is False and raw.get("showlegend", True)
    assert list(by_name(visdom_server.port, "sm_live", "loss_t")) == ["value"]


def test_a_long_series_is_smoothed_before_decimation(visdom_server):
    n, max_points = 5000, 200
    ys = noisy(n, seed=1)
    with VisdomLogger(env="sm_long", port=visdom_server.port, journal=False, max_points=max_points) as log:
        for step, y in enumerate(ys):
            log.scalar("loss", step, y, trace="train")
        assert log.flush(timeout=30)
    traces = by_name(visdom_server.port, "sm_long", "loss")
    raw, smoothed = traces["train"], traces["train" + SUFFIX]
    assert len(smoothed["x"]) <= max_points and len(raw["x"]) <= max_points
    oracle = tensorboard_smoothing(ys, 0.6)
    assert_matches(smoothed["y"], [oracle[x] for x in smoothed["x"]])   # each shown point is the EMA there
    assert smoothed["x"][0] < n / 50 and smoothed["x"][-1] == n - 1      # the whole run in view
    # smoothing the shown (decimated) raw points instead gives something else
    after = tensorboard_smoothing(raw["y"], 0.6)
    assert max(abs(a - b) for a, b in zip(after, [oracle[x] for x in raw["x"]])) > 0.1


def test_weights_per_logger_and_per_window_and_zero_turns_it_off(visdom_server):
    ys = noisy(MIN_POINTS + 10, seed=2)
    with VisdomLogger(env="sm_w", port=visdom_server.port, journal=False, smoothing=np.float32(0.3)) as log:
        log.window("heavy", smoothing=0.9)
        log.window("off", smoothing=0)
        log.window("area", fillarea=True)
        for step, y in enumerate(ys):
            log.scalars("default", step, {"a": y, "b": -y})
            for win in ("heavy", "off", "area"):
                log.scalar(win, step, y)
        log.line("curve", list(range(len(ys))), {"c": ys})      # a whole curve: no companion
        assert log.flush(timeout=30)
    port = visdom_server.port
    default = pane(port, "sm_w", "default")["content"]["data"]
    assert [t["name"] for t in default] == ["a", "b", "a" + SUFFIX, "b" + SUFFIX]
    assert [t["line"]["color"] for t in default[2:]] == ["#1f77b4", "#ff7f0e"]   # palette order
    assert_matches(default[2]["y"], tensorboard_smoothing(ys, float(np.float32(0.3))))
    assert_matches(default[3]["y"], tensorboard_smoothing([-y for y in ys], float(np.float32(0.3))))
    assert_matches(by_name(port, "sm_w", "heavy")["value" + SUFFIX]["y"], tensorboard_smoothing(ys, 0.9))
    for win in ("off", "area", "curve"):
        assert not any(SUFFIX in name for name in by_name(port, "sm_w", win)), win


def test_off_for_the_whole_logger(visdom_server):
    with VisdomLogger(env="sm_off", port=visdom_server.port, journal=False, smoothing=0) as log:
        for step, y in enumerate(noisy(100)):
            log.scalar("loss", step, y)
        assert log.flush(timeout=30)
    assert list(by_name(visdom_server.port, "sm_off", "loss")) == ["value"]


def test_a_companion_appears_once_a_trace_has_enough_points(visdom_server):
    ys = noisy(MIN_POINTS + 5, seed=3)
    with VisdomLogger(env="sm_few", port=visdom_server.port, journal=False) as log:
        for step, y in enumerate(ys[:MIN_POINTS - 1]):
            log.scalar("loss", step, y)
        assert log.flush(timeout=30)
        assert list(by_name(visdom_server.port, "sm_few", "loss")) == ["value"]
        for step, y in enumerate(ys[MIN_POINTS - 1:], MIN_POINTS - 1):
            log.scalar("loss", step, y)
        assert log.flush(timeout=30)
    smoothed = by_name(visdom_server.port, "sm_few", "loss")["value" + SUFFIX]
    assert_matches(smoothed["y"], tensorboard_smoothing(ys, 0.6))   # from the first point on


@pytest.mark.parametrize("bad, error", [(1, ValueError), (1.5, ValueError), (-0.1, ValueError),
                                        (math.nan, ValueError), (True, TypeError), ("0.6", TypeError)])
def test_bad_weights_are_refused_at_the_call(bad, error):
    with pytest.raises(error, match="smoothing="):
        VisdomLogger(journal=False, send=False, smoothing=bad)
    with VisdomLogger(journal=False, send=False) as log:
        with pytest.raises(error, match="smoothing="):
            log.window("w", smoothing=bad)
        with pytest.raises(ValueError, match="line windows"):
            log.window("t", kind="text", smoothing=0.5)


def test_replay_and_compare_draw_what_the_live_run_drew(tmp_path):
    ys = noisy(3000, seed=4)
    ys[10] = math.nan
    journal = tmp_path / "run.jsonl"
    with VisdomServer(env_path=tmp_path / "live") as live:
        with VisdomLogger(env="sm_rp", port=live.port, journal=str(journal), max_points=300) as log:
            log.window("heavy", smoothing=0.9)
            for step, y in enumerate(ys):
                log.scalars("loss", step, {"train": y, "val": y + 1})
                log.scalar("heavy", step, y)
            assert log.flush(timeout=30)
        original = {w: pane(live.port, "sm_rp", w) for w in ("loss", "heavy")}
    second = tmp_path / "run2.jsonl"
    second.write_bytes(journal.read_bytes())
    with VisdomServer(env_path=tmp_path / "fresh") as fresh:
        replay(str(journal), port=fresh.port)
        assert {w: pane(fresh.port, "sm_rp", w) for w in ("loss", "heavy")} == original
        compare([str(journal), str(second)], port=fresh.port, env="sm_cmp")
        drawn = pane(fresh.port, "sm_cmp", "heavy")["content"]["data"]
    smoothed = original["heavy"]["content"]["data"][1]
    assert [t["name"] for t in drawn] == ["run", "run2", "run" + SUFFIX, "run2" + SUFFIX]
    oracle = tensorboard_smoothing(ys, 0.9)
    assert_matches(smoothed["y"], [oracle[x] for x in smoothed["x"]])
    # compare keeps 10,000 points a trace (not the run's max_points): every smoothed point here
    assert drawn[2]["x"] == drawn[3]["x"] == list(range(len(ys)))
    assert drawn[2]["y"] == drawn[3]["y"]
    assert_matches(drawn[2]["y"], oracle)
    assert [t["line"]["color"] for t in drawn[2:]] == ["#1f77b4", "#ff7f0e"]   # coloured per run
    assert drawn[0]["line"]["color"] == f"rgba(31,119,180,{FAINT})"


def feed_rounds(smoothing, ys, per_round=700):
    """One trace fed to a model in rounds, a sender round after each: (model, fake server)."""
    model = Windows("e", 1_000, smoothing=smoothing)
    sender, server, clock = fake_sender(model)
    for start in range(0, len(ys), per_round):
        xs = list(range(start, min(len(ys), start + per_round)))
        model.apply({"op": "points", "win": "w", "x": xs, "y": {"t": ys[start:start + per_round]}})
        one_round(sender, clock)
        win = model.windows["w"]
        shown = [list(t.shown()) for t in (win.traces["t"], win.companion("t")) if t is not None]
        assert [[xs, ys_] for _, xs, ys_ in server.windows["w"]] == shown
    return model, server


def test_live_appends_carry_the_companions_new_points_only():
    """Against a fake server: after every round the server holds what the model shows, the
    companion included; it is appended to, sent whole only when it is rebuilt (stride doubled)."""
    ys = noisy(20_000, seed=5)
    plain, plain_server = feed_rounds(0, ys)
    model, server = feed_rounds(0.6, ys)
    companion = model.windows["w"].companion("t")
    assert companion.decimated and companion.rebuilds >= 1
    wholes, rounds = server.count("events", "w"), server.count("events", "w") + server.count("update", "w")
    assert wholes <= plain_server.count("events", "w") + companion.rebuilds
    assert rounds == plain_server.count("events", "w") + plain_server.count("update", "w")
    assert wholes < rounds / 3


@settings(max_examples=60, deadline=None)
@given(values=st.lists(st.one_of(st.floats(-1e6, 1e6), st.just(math.nan), st.just(math.inf),
                                 st.integers(-5, 5)), max_size=300),
       weight=st.floats(0.01, 0.999), cuts=st.lists(st.integers(0, 300), max_size=5))
def test_the_streamed_ema_is_tensorboards_whatever_the_batches(values, weight, cuts):
    """Batches of any size (as the journal thread gets them), gaps, ints: TensorBoard's values,
    except that while the values so far are constant the constant itself is drawn."""
    smoother, got = Smoother(weight), []
    for a, b in zip([0] + sorted(cuts), sorted(cuts) + [len(values)]):
        got += smoother.smooth([v if math.isfinite(v) else None for v in values[a:b]])
    oracle = tensorboard_smoothing([float(v) for v in values], weight)
    assert_matches(got, oracle, tol=1e-9)


def test_an_int_beyond_float_range_is_a_gap_not_an_error():
    assert Smoother(0.6).smooth([1.0, 10**400, 3.0]) == [1.0, None, pytest.approx(
        tensorboard_smoothing([1.0, math.nan, 3.0], 0.6)[2])]
