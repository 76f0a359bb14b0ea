"""The watchdog: NaN/Inf, loss spikes (median/MAD) and stalls, as alerts in the status pane, one
stderr line each, and a dashed mark on the affected window that survives appends and replay.
Unit tests drive vizlab.status.Tracker with a fake clock; the others read a real server."""

import random
import re
import time

import pytest

from vizlab import VisdomLogger, Watchdog
from vizlab.cli.replay import replay
from vizlab.status import Tracker
from support.windows import window


def points(win, xs, ys, trace="train"):
    return {"op": "points", "win": win, "x": list(xs), "y": {trace: list(ys)}}


def messages(alerts):
    return [a["alert"]["message"] for a in alerts]


def noisy(n, seed=0):
    rng = random.Random(seed)
    return [1.0 / (1 + 0.01 * i) + rng.gauss(0, 0.05) for i in range(n)]


# --- unit: the Tracker on its own

def test_spikes_are_found_robustly_and_only_on_loss_traces_by_default():
    ys, said = noisy(1000), []
    assert Tracker(Watchdog(), clock=lambda: 0.0).observe([points("loss", range(1000), ys)], 1.0) == []
    ys[700] = 5.0                                            # noise alone raised none; now a spike
    tracker = Tracker(Watchdog(), clock=lambda: 0.0, say=said.append)
    alerts = tracker.observe([points("loss", range(1000), ys),
                              points("accuracy", range(1000), ys, trace="val")], 2.0)
    assert [(a["alert"]["kind"], a["alert"]["x"]) for a in alerts] == [("spike", 700)]
    assert "spike in window 'loss' trace 'train' at step 700: 5" in messages(alerts)[0]
    assert [m for m in said if m.startswith("watchdog: spike")] == [said[0]] and len(said) == 1   # one line
    everything = Tracker(Watchdog(spike_traces=""), clock=lambda: 0.0)
    alerts = everything.observe([points("accuracy", range(1000), ys, trace="val")], 1.0)
    assert [a["alert"]["x"] for a in alerts] == [700]


def test_nan_alerts_are_rate_limited_per_trace():
    tracker = Tracker(Watchdog(every=60), clock=lambda: 0.0)
    nan = points("loss", [5, 6], [1.0, "nan"])
    assert messages(tracker.observe([nan], 1.0)) == ["NaN in window 'loss' trace 'train' at step 6"]
    assert tracker.observe([points("loss", [7], ["inf"])], 30.0) == []          # within a minute
    other = tracker.observe([points("loss", [7], ["-inf"], trace="val")], 30.0)  # another trace
    assert messages(other) == ["-Inf in window 'loss' trace 'val' at step 7"]
    assert messages(tracker.observe([points("loss", [8], ["inf"])], 62.0)) == \
        ["+Inf in window 'loss' trace 'train' at step 8"]
    assert Tracker(Watchdog(nan=False), clock=lambda: 0.0).observe([nan], 1.0) == []


def test_a_stall_alerts_once_until_calls_come_again():
    tracker = Tracker(Watchdog(stall=10), clock=lambda: 0.0)
    tracker.observe([points("loss", [3], [1.0])], 1.0)
    assert tracker.tick(5.0)[1] is False                     # a redraw, not journaled
    record, journal = tracker.tick(11.5)
    assert journal and record["alert"]["kind"] == "stall" and record["stalled"]
    assert "no logging call for 00:10 (the last at step 3" in record["alert"]["message"]
    assert not tracker.tick(30.0)[1]                        # the same stall: said once
    tracker.observe([points("loss", [4], [1.0])], 31.0)
    assert "stalled" not in tracker.record(31.0)
    assert tracker.tick(42.0)[0]["alert"]["kind"] == "stall"
    assert Tracker(Watchdog(stall=None), clock=lambda: 0.0).tick(1e6)[1] is False


def test_rate_eta_and_end_states():
    tracker = Tracker(None, total=100, clock=lambda: 0.0)
    for t in range(1, 11):
        tracker.observe([points("loss", [5 * t], [1.0])], float(t))
    record = tracker.record(10.0)
    assert record["step"] == 50 and record["rate"] == pytest.approx(5.0)
    tracker.end("crashed", "ValueError: x")
    tracker.end("finished")                                  # the close after a crash
    assert tracker.final(11.0)["state"] == "crashed"
    assert tracker.observe([points("system_cpu", [999], [1.0])], 12.0) == [] and tracker.step == 50


# --- integration: a real server

def test_nan_alert_names_window_and_step_and_marks_it(visdom_server, tmp_path, capfd):
    port, journal = visdom_server.port, tmp_path / "j.jsonl"
    with VisdomLogger(env="wd_nan", port=port, journal=str(journal)) as log:
        for step in range(30):
            log.scalar("loss", step, 1.0, trace="train")
        log.scalar("loss", 30, float("nan"), trace="train")
        log.scalar("loss", 31, float("nan"), trace="train")   # the same alert: rate-limited
        assert log.flush(timeout=30)
        assert "NaN in window 'loss' trace 'train' at step 30" in window(port, "wd_nan", "status")["content"]
        assert marks(port, "wd_nan", "loss") == [30]
        for step in range(32, 200):                           # appends keep the mark
            log.scalar("loss", step, 1.0, trace="train")
        assert log.flush(timeout=30)
        assert marks(port, "wd_nan", "loss") == [30]
        assert len(window(port, "wd_nan", "loss")["content"]["data"][0]["x"]) == 200
    assert capfd.readouterr().err.count("vizlab: watchdog: NaN") == 1
    replay(str(journal), port=port, env="wd_nan_rp")
    assert marks(port, "wd_nan_rp", "loss") == [30]
    assert window(port, "wd_nan_rp", "status")["content"] == window(port, "wd_nan", "status")["content"]


def marks(port, env, win):
    shapes = window(port, env, win)["content"]["layout"].get("shapes", [])
    assert all(s["line"]["dash"] == "dash" and s["yref"] == "paper" for s in shapes)
    return [s["x0"] for s in shapes]


def test_spike_alert_and_mark(visdom_server):
    port = visdom_server.port
    ys = noisy(300, seed=1)
    ys[250] = 8.0
    with VisdomLogger(env="wd_spike", port=port, journal=False) as log:
        for step, y in enumerate(ys):
            log.scalar("train_loss", step, y)
        assert log.flush(timeout=30)
        alerts = re.findall(r"<li>.*?</li>", window(port, "wd_spike", "status")["content"])
        assert len(alerts) == 1 and "spike in window 'train_loss' trace 'value' at step 250" in alerts[0]
        assert marks(port, "wd_spike", "train_loss") == [250]


def test_stall_alert_with_a_small_threshold(visdom_server):
    port = visdom_server.port
    with VisdomLogger(env="wd_stall", port=port, journal=False, watchdog=Watchdog(stall=0.5)) as log:
        log.scalar("loss", 7, 1.0)
        assert log.flush(timeout=30)
        deadline = time.monotonic() + 60
        while "no logging call for" not in window(port, "wd_stall", "status")["content"]:
            assert time.monotonic() < deadline, "no stall alert within 60 s"
            time.sleep(0.1)
        assert "the last at step 7" in window(port, "wd_stall", "status")["content"]


def test_watchdog_false_raises_no_alert(visdom_server):
    port = visdom_server.port
    with VisdomLogger(env="wd_off", port=port, journal=False, watchdog=False) as log:
        log.scalar("loss", 0, float("nan"))
        log.scalar("loss", 1, 1.0)
        assert log.flush(timeout=30)
    assert "alerts" not in window(port, "wd_off", "status")["content"]
    assert marks(port, "wd_off", "loss") == []
