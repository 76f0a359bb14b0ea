"""Issue 18, findings 1, 2 and 10: values from NumPy, tensors and Decimal are made JSON-safe or
refused at the call; what still cannot be written is dropped alone; a stopped journal thread or a
closed logger makes calls raise instead of vanishing into a queue nobody drains."""

import threading
from decimal import Decimal

import numpy as np
import pytest
import torch

from vizlab import VisdomLogger
from vizlab import journal as journal_mod
from support.windows import points, window

pytestmark = pytest.mark.server   # starts or needs a real Visdom server


def journal_points(path, win, trace="value"):
    return [(r["x"], r["y"][trace]) for r in journal_mod.read(path) if r["op"] == "scalars"
            and r["win"] == win and trace in r["y"]]


def test_numpy_and_tensor_options_are_converted_and_every_later_call_kept(visdom_server, tmp_path):
    path = tmp_path / "j.jsonl"
    with VisdomLogger(env="flt_numpy_opts", port=visdom_server.port, journal=str(path)) as log:
        log.window("acc", kind="line", ytickmin=np.float32(0.0), ytickmax=np.float32(1.0),
                   width=np.int64(400), height=torch.tensor(300), markers=np.bool_(False),
                   layoutopts={"plotly": {"xaxis": {"tickvals": np.array([0, 1000, 2000])}}})
        log.text("note", "hello", width=Decimal("250"))
        for step in range(2_000):
            log.scalar("acc", step, step / 2_000)
        assert log.flush(timeout=30)
        assert log.stats["errors"] == 0 and log.stats["dropped"] == 0
    assert journal_points(path, "acc") == [(s, s / 2_000) for s in range(2_000)]
    shown = window(visdom_server.port, "flt_numpy_opts", "acc")
    assert shown["content"]["layout"]["yaxis"]["range"] == [0.0, 1.0]
    assert shown["content"]["layout"]["xaxis"]["tickvals"] == [0, 1000, 2000]
    assert points(visdom_server.port, "flt_numpy_opts", "acc")["value"] == {s: s / 2_000 for s in range(2_000)}


@pytest.mark.parametrize("bad", [{"width": float("nan")}, {"width": 10 ** 400}, {"width": True},
                                 {"height": np.float64("inf")}, {"layoutopts": {"a": float("nan")}},
                                 {"layoutopts": {"a": object()}}])
def test_bad_option_values_raise_at_the_call_naming_the_option(bad):
    log = VisdomLogger(env="flt_bad_opts", journal=False, send=False)
    try:
        with pytest.raises((ValueError, TypeError), match=next(iter(bad))):
            log.window("w", kind="line", **bad)
        with pytest.raises((ValueError, TypeError), match=next(iter(bad))):
            log.scalar("w", 0, 1.0, **bad)
        if "layoutopts" not in bad:
            with pytest.raises((ValueError, TypeError), match=next(iter(bad))):
                log.text("t", "x", **bad)
    finally:
        log.close()


@pytest.mark.parametrize("x", [np.float64("nan"), np.float32("inf"), torch.tensor(float("nan")),
                               Decimal("NaN"), float("-inf"), 10 ** 400, -10 ** 400],
                         ids=["np64-nan", "np32-inf", "tensor-nan", "decimal-nan", "-inf", "huge", "-huge"])
def test_a_non_finite_or_huge_x_is_refused_at_the_call(x):
    log = VisdomLogger(env="flt_bad_x", journal=False, send=False)
    try:
        log.scalar("w", 0, 1.0)                        # "w" is known: the fast path is tried first
        with pytest.raises(ValueError, match="x="):
            log.scalar("w", x, 1.0)
        with pytest.raises(ValueError, match="x="):
            log.scalars("w", x, {"a": 1.0})
    finally:
        log.close()


def test_one_bad_x_among_many_loses_no_neighbour(visdom_server, tmp_path):
    """The NaN x (NumPy, a 0-d tensor, and a tensor subclass read only on the journal thread, as a
    GPU tensor is) costs that call alone, never its batch."""
    path = tmp_path / "j.jsonl"
    refused = 0
    with VisdomLogger(env="flt_nan_x", port=visdom_server.port, journal=str(path)) as log:
        for step in range(3_000):
            for trace in ("lr", "loss"):
                log.scalar("train", step, float(step), trace=trace)
            if step in (1_000, 2_000):
                for bad in (np.float64("nan"), torch.tensor(float("nan"))):
                    try:
                        log.scalar("train", bad, 0.1, trace="lr")
                    except ValueError:
                        refused += 1
            if step == 1_500:   # not readable at the call: the journal thread drops it alone
                log.scalar("train", torch.nn.Parameter(torch.tensor(float("nan"))), 0.1, trace="lr")
        assert log.flush(timeout=30)
        stats = log.stats
    assert refused == 4
    assert stats["dropped"] == 1 and stats["journaled"] == 6_000
    for trace in ("lr", "loss"):
        assert journal_points(path, "train", trace) == [(s, float(s)) for s in range(3_000)]
        assert points(visdom_server.port, "flt_nan_x", "train")[trace] == {s: float(s) for s in range(3_000)}


def test_line_x_and_pane_sizes_must_be_finite():
    log = VisdomLogger(env="flt_line", journal=False, send=False)
    try:
        for x in ([0.0, float("nan")], np.array([0.0, np.inf]), torch.tensor([0.0, float("nan")])):
            with pytest.raises(ValueError, match="x must hold finite"):
                log.line("curve", x, {"a": [1.0, 2.0]})
        with pytest.raises(ValueError, match="width"):
            log.text("t", "hi", width=float("nan"))
    finally:
        log.close()


def test_deep_or_cyclic_figure_data_is_a_clear_error_not_a_recursion_error():
    deep = []
    for _ in range(5_000):
        deep = [deep]
    cyclic = {"type": "bar"}
    cyclic["self"] = cyclic
    log = VisdomLogger(env="flt_deep", journal=False, send=False)
    try:
        with pytest.raises(ValueError, match="nested deeper"):
            log.figure("f", [{"type": "bar", "y": deep}])
        with pytest.raises(ValueError, match="nested deeper"):
            log.figure("f", [cyclic])
        log.figure("f", [{"type": "bar", "y": [Decimal("1.5"), np.float32(2)]}])   # converted
    finally:
        log.close()


def test_a_record_json_cannot_hold_is_dropped_alone(tmp_path, capfd):
    """The safety net behind the call-site checks: an event that slipped past them."""
    path = tmp_path / "j.jsonl"
    log = VisdomLogger(env="flt_alone", journal=str(path), send=False)
    for step in range(100):
        log.scalar("a", step, 1.0)
        if step == 50:
            log._writer.put(("text", "bad", object(), {}))   # as if a check had let it through
            log.text("good", "kept")
    log.close()
    assert [x for x, _ in journal_points(path, "a")] == list(range(100))
    assert [r["html"] for r in journal_mod.read(path) if r["op"] == "text"] == ["kept"]
    stats = log.stats
    assert stats["dropped"] == 1 and stats["accepted"] == 102 and stats["journaled"] == 101
    err = capfd.readouterr().err
    assert "record alone is dropped" in err
    assert "102 calls accepted, journal incomplete" in err and "holds 101 of them (1 could not be logged" in err


class Boom(BaseException):
    """Something no `except Exception` catches: the thread would die of it."""


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")   # on purpose
def test_a_stopped_journal_thread_makes_the_next_call_raise_and_the_summary_says_so(tmp_path, capfd):
    log = VisdomLogger(env="flt_dead", journal=str(tmp_path / "j.jsonl"), send=False)
    log.scalar("a", 0, 1.0)
    assert log.flush()
    records = log._writer.converter.records

    def die(events):
        log._writer.converter.records = records
        raise Boom("simulated")

    log._writer.converter.records = die
    log.scalar("a", 1, 1.0)
    log._writer.join(10)
    assert not log._writer.is_alive()
    with pytest.raises(RuntimeError, match="journal thread stopped"):
        log.scalar("a", 2, 1.0)
    with pytest.raises(RuntimeError, match="journal thread stopped"):
        log.text("t", "x")
    log.close()
    err = capfd.readouterr().err
    assert err.count("journal thread stopped (Boom: simulated)") == 1
    assert "holds 1 of them (1 never written: the journal thread failed)" in err


def test_calls_racing_close_are_written_or_raise_closed(tmp_path):
    """item 10: no call returns normally and is then lost."""
    for attempt in range(5):
        path = tmp_path / f"j{attempt}.jsonl"
        log = VisdomLogger(env="flt_race", journal=str(path), send=False)
        log.window("a", kind="line")
        accepted = [0] * 4
        go = threading.Event()

        def hammer(i):
            go.wait()
            step = 0
            while True:
                try:
                    log.scalar("a", step, float(i), trace=f"t{i}")
                except RuntimeError as err:
                    assert "closed" in str(err)
                    return
                accepted[i] += 1
                step += 1

        threads = [threading.Thread(target=hammer, args=(i,)) for i in range(4)]
        for t in threads:
            t.start()
        go.set()
        while sum(accepted) < 2_000:
            pass
        log.close()
        for t in threads:
            t.join(10)
        kept = [0] * 4
        for r in journal_mod.read(path):
            if r["op"] == "scalars":
                kept[int(next(iter(r["y"]))[1:])] += 1
        assert kept == accepted
