"""Decimated windows on a real Visdom server: after every flush the server shows exactly what the
window model shows, a restarted empty server included, and most requests are appends."""

import math
import random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vizlab import VisdomLogger, VisdomServer, rebuild
from vizlab.smoothing import SUFFIX
from support.windows import window

import pytest  # noqa: E402
pytestmark = pytest.mark.server   # starts or needs a real Visdom server


def server_traces(port, env, win):
    return {t["name"]: (t["x"], t["y"]) for t in window(port, env, win)["content"]["data"]}


def model_traces(log, win):
    with log._writer.model_lock:
        return shown_traces(log._writer.model, win)


def shown_traces(model, win):
    w = model.windows[win]
    shown = {name: t.shown() for name, t in w.traces.items()}
    return dict(shown, **{name + SUFFIX: w.companion(name).shown() for name in w.traces if w.companion(name)})


def requests_made(log):
    with log._writer.model_lock:
        return dict(log._writer.model.requests)


def log_stretch(log, start, size, rng):
    for step in range(start, start + size):
        y = rng.random() if rng.random() > 0.02 else math.nan
        log.scalars("loss", step, {"train": y, "val": y * 2})


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(max_points=st.integers(10, 120), stretches=st.lists(st.integers(1, 900), min_size=2, max_size=8),
       seed=st.integers(0, 10**6))
def test_after_every_flush_the_server_shows_the_model(visdom_server, tmp_path, max_points, stretches, seed):
    rng = random.Random(seed)
    env = f"lv_prop_{seed}_{max_points}_{len(stretches)}"
    with VisdomLogger(env=env, port=visdom_server.port, journal=str(tmp_path / f"{env}.jsonl"),
                      max_points=max_points) as log:
        step = 0
        for size in stretches:
            log_stretch(log, step, size, rng)
            step += size
            assert log.flush(timeout=60)
            assert server_traces(visdom_server.port, env, "loss") == model_traces(log, "loss")
            assert all(len(xs) <= max_points for xs, _ in model_traces(log, "loss").values())


def test_a_long_decimated_run_is_appended_and_survives_an_empty_restart(tmp_path):
    """30,000 points a trace at max_points 1,000, a flush every 1,500 steps, the server restarted
    empty half-way: the server equals the model after every flush; whole sends are the window's
    creation, the stride's doublings and the restart's rebuild; everything else appends."""
    rng = random.Random(1)
    with VisdomServer(env_path=tmp_path / "env") as srv:
        with VisdomLogger(env="lv_long", port=srv.port, journal=str(tmp_path / "j.jsonl"),
                          max_points=1_000) as log:
            for start in range(0, 30_000, 1_500):
                log_stretch(log, start, 1_500, rng)
                if start == 15_000:
                    srv.stop()
                    srv.start()     # same port, empty
                assert log.flush(timeout=60)
                assert server_traces(srv.port, "lv_long", "loss") == model_traces(log, "loss")
            made = requests_made(log)
            with log._writer.model_lock:
                doublings = max(t.doublings for t in log._writer.model.windows["loss"].traces.values())
        # close settled the window into the form a replay gives (and gave the model's memory back)
        replayed, _ = next(rebuild.runs(str(tmp_path / "j.jsonl")))
        assert server_traces(srv.port, "lv_long", "loss") == shown_traces(replayed, "loss")
    assert doublings <= math.log2(30_000 / 1_000) + 2
    assert made["whole"] <= doublings + 4      # creation, points to buckets, the restart, +1 spare
    assert made["append"] >= 2 * made["whole"]
