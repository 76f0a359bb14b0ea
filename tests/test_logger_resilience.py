"""Server down, restarted, bad input, a failing event: training goes on and nothing is lost."""

import json
import threading
import time

import numpy as np
import pytest
import torch
from visdom import Visdom

from vizlab import VisdomLogger, VisdomServer
from vizlab import journal as journal_mod
from vizlab.server.process import free_port

pytestmark = pytest.mark.server   # starts or needs a real Visdom server


def reader(port):
    return Visdom(port=port, raise_exceptions=True, use_incoming_socket=False)


def trace_points(viz, env, win, trace="value"):
    data = json.loads(viz.get_window_data(win, env=env))
    (t,) = [t for t in data["content"]["data"] if t["name"] == trace]
    return t["x"], t["y"]


def test_server_down_at_start_everything_arrives_once_it_starts(tmp_path, capfd):
    port = free_port()
    log = VisdomLogger(env="rs_late", port=port, journal=str(tmp_path / "j.jsonl"))
    start = time.monotonic()
    for step in range(200):
        log.scalar("loss", step, float(step), trace="train")
    log.text("note", "logged while the server was down")
    assert time.monotonic() - start < 5, "logging must not wait for a missing server"
    assert not log.flush(timeout=1)
    with VisdomServer(port=port, env_path=tmp_path / "env"):
        assert log.flush(timeout=30)
        viz = reader(port)
        assert trace_points(viz, "rs_late", "loss", "train") == (list(range(200)), [float(s) for s in range(200)])
        assert json.loads(viz.get_window_data("note", env="rs_late"))["content"].startswith("logged while")
        log.close()
    err = capfd.readouterr().err
    assert err.count("is not answering") == 1, err
    assert "Traceback" not in err and "Exception in user code" not in err


def _log_everything(log, steps):
    for step in steps:
        log.scalars("loss", step, {"train": step * 1.0, "val": -step * 1.0})
    log.text("note", f"up to step {steps[-1]}")
    log.images("grid", torch.rand(4, 1, 8, 8), labels=[1, 2, 3, 4])


@pytest.mark.parametrize("downtime_seen", [True, False], ids=["logged-while-down", "quick-restart"])
def test_restarted_empty_server_ends_with_every_point(tmp_path, downtime_seen):
    env = f"rs_restart_{downtime_seen}"
    with VisdomServer(env_path=tmp_path / "env") as srv:
        log = VisdomLogger(env=env, port=srv.port, journal=str(tmp_path / "j.jsonl"))
        _log_everything(log, range(0, 50))
        assert log.flush(timeout=20)
        srv.stop()
        if downtime_seen:
            _log_everything(log, range(50, 100))
            assert not log.flush(timeout=1)
        srv.start()   # same port, empty: every window is gone
        _log_everything(log, range(100, 150))
        assert log.flush(timeout=30)
        viz = reader(srv.port)
        steps = list(range(0, 50)) + (list(range(50, 100)) if downtime_seen else []) + list(range(100, 150))
        assert trace_points(viz, env, "loss", "train") == (steps, [s * 1.0 for s in steps])
        assert trace_points(viz, env, "loss", "val") == (steps, [-s * 1.0 for s in steps])
        assert json.loads(viz.get_window_data("note", env=env))["content"] == "up to step 149"
        assert json.loads(viz.get_window_data("grid", env=env))["type"] == "image"
        log.close()


def test_restart_while_idle_is_repaired_by_flush(tmp_path):
    """Windows that get no new points (text, images) are rebuilt too."""
    with VisdomServer(env_path=tmp_path / "env") as srv:
        with VisdomLogger(env="rs_idle", port=srv.port, journal=str(tmp_path / "j.jsonl")) as log:
            log.text("note", "hello")
            log.scalar("loss", 0, 1.0)
            assert log.flush(timeout=10)
            srv.stop()
            srv.start()
            assert log.flush(timeout=20)
            viz = reader(srv.port)
            assert json.loads(viz.get_window_data("note", env="rs_idle"))["content"] == "hello"
            assert trace_points(viz, "rs_idle", "loss") == ([0], [1.0])


@pytest.mark.parametrize("sender_saw_it_down", [True, False], ids=["seen-down", "closed-at-once"])
def test_close_with_server_down_gives_up_and_points_to_the_journal(tmp_path, capfd, sender_saw_it_down):
    """A short run against a dead port closes before the sender ever tried: it still must not
    sit out close_timeout (here 10 minutes) waiting for a server that refuses connections."""
    log = VisdomLogger(env="rs_down", port=free_port(), journal=str(tmp_path / "j.jsonl"),
                       close_timeout=600)
    for step in range(100):
        log.scalar("loss", step, step * 0.5)
    if sender_saw_it_down:
        assert not log.flush(timeout=1)
    closing = threading.Thread(target=log.close, daemon=True)
    closing.start()
    closing.join(timeout=60)   # generous deadline: close() gives up after ~2 s of no answer
    assert not closing.is_alive(), "close() waits for a dead server instead of giving up"
    assert not log.flush()
    assert "vizlab replay" in capfd.readouterr().err
    records = [r for r in journal_mod.read(tmp_path / "j.jsonl") if r["op"] == "scalars"]
    assert [r["y"]["value"] for r in records] == [s * 0.5 for s in range(100)]


BAD_CALLS = [
    (lambda log: log.scalar("a/b", 0, 1.0), ValueError, "win"),
    (lambda log: log.scalar("..", 0, 1.0), ValueError, "win"),
    (lambda log: log.scalar("", 0, 1.0), ValueError, "win"),
    (lambda log: log.scalar(3, 0, 1.0), ValueError, "win"),
    (lambda log: log.scalar("ok", 0, "1.0"), TypeError, "y"),
    (lambda log: log.scalar("ok", 0, None), TypeError, "y"),
    (lambda log: log.scalar("ok", 0, torch.ones(3)), ValueError, "y"),
    (lambda log: log.scalar("ok", 0, np.ones(2)), TypeError, "y"),
    (lambda log: log.scalar("ok", float("nan"), 1.0), ValueError, "x"),
    (lambda log: log.scalar("ok", [0], 1.0), TypeError, "x"),
    (lambda log: log.scalar("ok", 0, 1.0, trace=""), TypeError, "trace"),
    (lambda log: log.scalar("ok", 0, 1.0, colour="red"), ValueError, "colour"),
    (lambda log: log.scalar("ok", 0, 1.0, title=5), TypeError, "title"),
    (lambda log: log.scalar("ok", 0, 1.0, ytype="logarithmic"), ValueError, "ytype"),
    (lambda log: log.scalars("ok", 0, [1.0]), TypeError, "values"),
    (lambda log: log.scalars("ok", 0, {"a": 1.0, "b": 2.0}, linecolor=[(255, 0, 0)]), ValueError, "linecolor"),
    (lambda log: log.scalar("ok", 0, 1.0, linecolor=(256, 0, 0)), ValueError, "linecolor"),
    (lambda log: log.scalar("ok", 0, 1.0, linecolor="red"), ValueError, "#rrggbb"),
    (lambda log: log.scalar("ok", 0, 1.0, dash="dashed"), ValueError, "dash"),
    (lambda log: log.line("ok", [0, 1], {"a": [1, 2], "b": [2, 1]}, dash=["dot"]), ValueError, "dash"),
    (lambda log: log.images("img", torch.rand(2, 1, 8, 8), dash="dot"), ValueError, "dash"),
    (lambda log: log.scalars("ok", 0, {"a": 1.0}, legend=["b"]), ValueError, "legend"),
    (lambda log: log.line("ok", [0, 1], {"a": [1.0]}), ValueError, "ys['a']"),
    (lambda log: log.line("ok", [[0, 1]], {"a": [1.0, 2.0]}), ValueError, "x"),
    (lambda log: log.line("ok", [0, 1], [1.0, 2.0]), TypeError, "ys"),
    (lambda log: log.images("img", torch.rand(2, 2, 8, 8)), ValueError, "images"),
    (lambda log: log.images("img", torch.rand(8, 8)), ValueError, "images"),
    (lambda log: log.images("img", torch.zeros(2, 1, 8, 8, dtype=torch.int32)), TypeError, "images"),
    (lambda log: log.images("img", "pixels"), TypeError, "images"),
    (lambda log: log.images("img", torch.rand(2, 1, 8, 8), labels=[1]), ValueError, "labels"),
    (lambda log: log.images("img", torch.rand(2, 1, 8, 8), labels=[1, 2], preds=[1, 2, 3]), ValueError, "preds"),
    (lambda log: log.images("img", torch.rand(2, 1, 8, 8), nrow=0), ValueError, "nrow"),
    (lambda log: log.images("img", torch.rand(2, 3, 8, 8), mean=[0.1, 0.2]), ValueError, "mean"),
    (lambda log: log.images("img", torch.rand(2, 1, 8, 8), std=0), ValueError, "std"),
    (lambda log: log.text("t", 42), TypeError, "html"),
    (lambda log: log.text("t", "x", colour=1), ValueError, "colour"),
    (lambda log: log.figure("f", {"type": "bar"}), TypeError, "traces"),
    (lambda log: log.figure("f", [{"x": object()}]), TypeError, "traces"),
    (lambda log: log.figure("f", [], layout=[1]), TypeError, "layout"),
]


@pytest.mark.parametrize("call,error,named", BAD_CALLS, ids=[f"{i}-{c[2]}" for i, c in enumerate(BAD_CALLS)])
def test_bad_input_raises_at_call_site_naming_the_argument(call, error, named, tmp_path):
    with VisdomLogger(env="rs_bad", journal=str(tmp_path / "j.jsonl"), send=False) as log:
        with pytest.raises(error, match=named.replace("[", r"\[").replace("]", r"\]")):
            call(log)


def test_bad_env_names(tmp_path):
    for env in ["a/b", "..", "", "x\\y"]:
        with pytest.raises(ValueError, match="env"):
            VisdomLogger(env=env, journal=str(tmp_path / "j.jsonl"), send=False)


def test_bad_calls_lose_nothing_and_later_calls_arrive(visdom_server, tmp_path):
    with VisdomLogger(env="rs_bad_then_good", port=visdom_server.port,
                      journal=str(tmp_path / "j.jsonl")) as log:
        log.scalar("loss", 0, 1.0)
        for call, error, _ in BAD_CALLS:
            with pytest.raises(error):
                call(log)
        log.scalar("loss", 1, 2.0)
        assert log.flush(timeout=10)
        assert trace_points(reader(visdom_server.port), "rs_bad_then_good", "loss") == ([0, 1], [1.0, 2.0])


def test_nan_and_inf_are_gaps_counted_with_one_warning(visdom_server, tmp_path, capfd):
    with VisdomLogger(env="rs_nan", port=visdom_server.port, journal=str(tmp_path / "j.jsonl")) as log:
        values = [1.0, float("nan"), 2.0, float("inf"), torch.tensor(float("-inf")), np.float32("nan"), 3.0]
        for step, y in enumerate(values):
            log.scalar("loss", step, y)
        log.line("curve", [0, 1, 2], {"a": [1.0, float("nan"), 3.0]})
        assert log.flush(timeout=10)
        assert log.stats["nonfinite"] == 5
        viz = reader(visdom_server.port)
        assert trace_points(viz, "rs_nan", "loss") == (list(range(7)), [1.0, None, 2.0, None, None, None, 3.0])
        assert trace_points(viz, "rs_nan", "curve", "a")[1] == [1.0, None, 3.0]
    err = capfd.readouterr().err
    assert err.count("shown as a gap") == 1 and "5 NaN/Inf values" in err
    ys = [r["y"]["value"] for r in journal_mod.read(tmp_path / "j.jsonl") if r["op"] == "scalars"]
    assert ys == [1.0, "nan", 2.0, "inf", "-inf", "nan", 3.0]   # the journal keeps which it was


class Exploding(torch.Tensor):
    """A one-element tensor whose value cannot be read (fails on the sender thread)."""

    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        if getattr(func, "__name__", "") == "item":
            raise RuntimeError("device lost")
        return super().__torch_function__(func, types, args, kwargs or {})


def test_sender_thread_survives_a_failing_event(visdom_server, tmp_path, capfd):
    with VisdomLogger(env="rs_survive", port=visdom_server.port, journal=str(tmp_path / "j.jsonl")) as log:
        log.scalar("loss", 0, 1.0)
        log.scalar("loss", 1, torch.tensor(5.0).as_subclass(Exploding))
        log.scalar("loss", 2, torch.tensor(5.0).as_subclass(Exploding))
        log.scalar("loss", 3, 3.0)
        assert log.flush(timeout=10)
        assert log._sender.is_alive()
        assert log.stats["errors"] == 2
        assert trace_points(reader(visdom_server.port), "rs_survive", "loss") == ([0, 3], [1.0, 3.0])
    err = capfd.readouterr().err
    assert err.count("device lost") == 1 and "Traceback" not in err


class Stalling(torch.Tensor):
    """Reading its value blocks until `release` is set: a sender stuck far behind the caller."""
    release = threading.Event()

    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        if getattr(func, "__name__", "") == "item":
            cls.release.wait(30)
        return super().__torch_function__(func, types, args, kwargs or {})


def test_full_queue_makes_the_caller_wait_and_drops_nothing(visdom_server, tmp_path, capfd):
    """Backpressure, not drops: a caller far ahead of a stuck journal thread waits, the wait is
    counted and reported, and every call reaches journal and server."""
    Stalling.release.clear()
    log = VisdomLogger(env="rs_queue", port=visdom_server.port, journal=str(tmp_path / "j.jsonl"),
                       queue_size=10, interval=0.01)
    log.scalar("loss", 0, torch.tensor(0.0).as_subclass(Stalling))
    deadline = time.monotonic() + 10
    while log.stats["queued"] and time.monotonic() < deadline:   # wait until the thread is stuck on it
        time.sleep(0.01)
    producer = threading.Thread(target=lambda: [log.scalar("loss", s, float(s)) for s in range(1, 31)])
    producer.start()
    deadline = time.monotonic() + 10
    while log.stats["queued"] < 10 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert producer.is_alive() and log.stats["queued"] == 10   # the caller waits at queue_size
    Stalling.release.set()
    producer.join(timeout=30)
    assert not producer.is_alive()
    assert log.flush(timeout=10)
    assert log.stats["dropped"] == 0 and log.stats["waits"] >= 1 and log.stats["waited_s"] > 0
    log.close()
    x, _ = trace_points(reader(visdom_server.port), "rs_queue", "loss")
    assert x == list(range(31))
    records = [r for r in journal_mod.read(tmp_path / "j.jsonl") if r["op"] == "scalars"]
    assert [r["x"] for r in records] == list(range(31))
    assert "waited" in capfd.readouterr().err


def test_restart_noticed_by_a_refused_append_without_flush(tmp_path):
    """No flush, no periodic check: the first append the new server refuses triggers the rebuild."""
    with VisdomServer(env_path=tmp_path / "env") as srv:
        log = VisdomLogger(env="rs_refused", port=srv.port, journal=str(tmp_path / "j.jsonl"),
                           interval=0.05)
        for step in range(20):
            log.scalar("loss", step, float(step))
        assert log.flush(timeout=10)
        srv.stop()
        srv.start()
        log.scalar("loss", 20, 20.0)
        viz, deadline, x = reader(srv.port), time.monotonic() + 20, None
        while time.monotonic() < deadline:
            if viz.win_exists("loss", env="rs_refused"):
                x, _ = trace_points(viz, "rs_refused", "loss")
                if x and x[-1] == 20:
                    break
            time.sleep(0.05)
        assert x == list(range(21))
        log.close()
