"""The logger against a visdom 0.3.x SERVER (issue 3, point 8).

visdom 0.3 needs Python >= 3.12, so its server runs from a separate venv (`make setup` builds
.venv-visdom03 when python3.12 exists); the logger here stays a 0.2.4/torch client talking HTTP.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import requests
import torch

import test_logger_resilience as resilience
from test_logger_resilience import reader, trace_points
from test_replay import ENV as REPLAY_ENV, WINDOWS, contents, log_a_run
from vizlab import VisdomLogger, VisdomServer
from vizlab.server.process import ServerError

pytestmark = pytest.mark.server   # starts or needs a real Visdom server

REPO = Path(__file__).resolve().parent.parent
PYTHON03 = os.environ.get("VIZLAB_VISDOM03_PYTHON") or str(REPO / ".venv-visdom03" / "bin" / "python")


@pytest.fixture(scope="module")
def python03():
    """The interpreter whose visdom is 0.3.x; skip (with how to build it) when there is none."""
    if not os.access(PYTHON03, os.X_OK):
        pytest.skip(f"no visdom 0.3 venv at {PYTHON03}: run `make setup` on a machine with python3.12, "
                    "or point VIZLAB_VISDOM03_PYTHON at a Python >= 3.12 with visdom 0.3 installed")
    version = subprocess.run([PYTHON03, "-c", "import visdom; print(visdom.__version__)"],
                             capture_output=True, text=True, timeout=60).stdout.strip()
    assert version.startswith("0.3"), f"{PYTHON03} has visdom {version!r}, not 0.3.x"
    return PYTHON03


@pytest.fixture(scope="module")
def server03(python03, tmp_path_factory):
    with VisdomServer(python=python03, env_path=tmp_path_factory.mktemp("env03")) as srv:
        yield srv


def test_every_window_kind_arrives_exactly(server03, tmp_path):
    with VisdomLogger(env="v3_all", port=server03.port, journal=str(tmp_path / "j.jsonl")) as log:
        for step in range(300):
            log.scalars("loss", step, {"train": 1.0 / (step + 1), "val": step * 0.5, "lr": 0.1})
        log.line("curve", [0, 1, 2], {"a": [3.0, 2.0, 1.0], "b": [1.0, 2.0, 3.0]}, title="curves")
        log.images("grid", torch.rand(4, 1, 8, 8), labels=[1, 2, 3, 4], preds=[1, 2, 0, 4])
        log.text("note", "<b>hello</b> from 0.2 to 0.3")
        log.figure("bars", [{"type": "bar", "x": ["a", "b"], "y": [1, 2]}], {"title": "bars"})
        assert log.flush(timeout=30)
    viz = reader(server03.port)
    steps = list(range(300))
    assert trace_points(viz, "v3_all", "loss", "train") == (steps, [1.0 / (s + 1) for s in steps])
    assert trace_points(viz, "v3_all", "loss", "val") == (steps, [s * 0.5 for s in steps])
    assert trace_points(viz, "v3_all", "loss", "lr") == (steps, [0.1] * 300)
    assert trace_points(viz, "v3_all", "curve", "b") == ([0, 1, 2], [1.0, 2.0, 3.0])
    grid = json.loads(viz.get_window_data("grid", env="v3_all"))
    assert grid["type"] == "image" and grid["content"]["src"].startswith("data:image/png;base64,")
    assert json.loads(viz.get_window_data("note", env="v3_all"))["content"] == "<b>hello</b> from 0.2 to 0.3"
    bars = json.loads(viz.get_window_data("bars", env="v3_all"))["content"]
    assert bars["data"] == [{"type": "bar", "x": ["a", "b"], "y": [1, 2]}]


def test_append_to_a_missing_window_is_refused(server03):
    """What the restart repair relies on: an append without a "layout" key never creates a window.

    (0.3 does create a partial window when an append carries "layout"; the logger never sends one.)
    """
    append = {"data": [{"x": [1], "y": [2.0], "name": "value", "type": "scatter", "mode": "lines"}],
              "win": "ghost", "eid": "v3_ghost", "append": True}
    assert requests.post(server03.url + "/update", data=json.dumps(append), timeout=10).status_code != 200
    exists = requests.post(server03.url + "/win_exists", data=json.dumps({"win": "ghost", "eid": "v3_ghost"}),
                           timeout=10)
    assert exists.text == "false"


@pytest.fixture
def resilience03(python03, monkeypatch):
    """test_logger_resilience's scenarios, with every server they start running visdom 0.3."""
    started = []

    def server03(*args, **kwargs):
        started.append(VisdomServer(*args, python=python03, **kwargs))
        return started[-1]

    monkeypatch.setattr(resilience, "VisdomServer", server03)
    yield resilience
    assert started, "the scenario started no server, so it did not run against visdom 0.3"


@pytest.mark.parametrize("downtime_seen", [True, False], ids=["logged-while-down", "quick-restart"])
def test_restarted_empty_server_ends_with_every_point(resilience03, tmp_path, downtime_seen):
    resilience03.test_restarted_empty_server_ends_with_every_point(tmp_path, downtime_seen)


def test_restart_noticed_by_a_refused_append_without_flush(resilience03, tmp_path):
    resilience03.test_restart_noticed_by_a_refused_append_without_flush(tmp_path)


def test_restart_while_idle_is_repaired_by_flush(resilience03, tmp_path):
    resilience03.test_restart_while_idle_is_repaired_by_flush(tmp_path)


def test_server_down_at_start_everything_arrives_once_it_starts(resilience03, tmp_path, capfd):
    resilience03.test_server_down_at_start_everything_arrives_once_it_starts(tmp_path, capfd)


def test_replay_onto_a_fresh_server_equals_the_live_run(python03, tmp_path):
    with VisdomServer(python=python03, env_path=tmp_path / "live") as live:
        with VisdomLogger(env=REPLAY_ENV, port=live.port, journal=str(tmp_path / "run.jsonl"),
                          max_points=40) as log:
            log_a_run(log)
            assert log.flush(timeout=20)
        original = contents(live.port, REPLAY_ENV)
    assert len(original["long"]["content"]["data"][0]["x"]) <= 40   # decimation is part of it
    with VisdomServer(python=python03, env_path=tmp_path / "fresh") as fresh:
        result = subprocess.run([sys.executable, "-m", "vizlab.cli", "replay", str(tmp_path / "run.jsonl"),
                                 "--port", str(fresh.port)], capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stdout + result.stderr
        assert f"-> {len(WINDOWS)} windows" in result.stdout
        assert contents(fresh.port, REPLAY_ENV) == original


def test_a_missing_interpreter_is_a_clear_error(tmp_path):
    with pytest.raises(ServerError, match="no Python at .*nope.*make setup"):
        VisdomServer(python=str(tmp_path / "nope" / "python"), env_path=tmp_path / "env").start()


def test_declared_windows_on_a_03_server(server03, tmp_path):
    """Declared windows go out empty first (an empty plot, a blank pane), in the declared order."""
    from visdom import Visdom
    import test_declared_windows as declared

    with VisdomLogger(env="v3_declared", port=server03.port, journal=str(tmp_path / "j.jsonl")) as log:
        declared.log_a_run(log)
        assert log.flush(timeout=30)
    declared.check_page(Visdom(port=server03.port, raise_exceptions=True, use_incoming_socket=False),
                        "v3_declared")


def test_a_03_server_vizlab_starts_takes_batches(python03, tmp_path):
    import test_batch_endpoint as batch

    with VisdomServer(python=python03, env_path=tmp_path / "env", log_path=tmp_path / "server.log") as srv:
        long_shown = batch.log_many(srv.port, "v3_batch", tmp_path, windows=60)
        batch.check_every_window(srv.port, "v3_batch", 60, long_shown)
    sent = batch.requests_in(srv.log_path)   # read once the server stopped
    assert sent.get("update", 0) == 0 and sent.get("events", 0) <= 2 and sent["vizlab/batch"] >= 2, sent   # 2: the index


def test_a_stock_03_server_gets_one_window_per_request(python03, tmp_path):
    import test_batch_endpoint as batch
    from support.servers import stock_server

    with stock_server(tmp_path, python=python03) as srv:
        long_shown = batch.log_many(srv.port, "v3_stock", tmp_path, windows=30)
        batch.check_every_window(srv.port, "v3_stock", 30, long_shown)
    sent = batch.requests_in(srv.log_path)
    # one request per window and flush (whole or append: a trace passing 10 points is sent whole
    # once, its markers going)
    assert sent.get("vizlab/batch", 0) == 0 and sent.get("events", 0) + sent.get("update", 0) >= 60, sent
    assert open(srv.log_path).read().count("GET /vizlab/batch") == 1


def test_the_runs_page_on_a_visdom_03_server(python03, tmp_path, monkeypatch):
    from vizlab.server.runs_page import LOGDIRS_ENV, PATH
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv(LOGDIRS_ENV, raising=False)   # an in-process `vizlab serve --logdir` sets it
    with VisdomServer(python=python03, env_path=tmp_path / "env") as srv:
        with VisdomLogger(env="r03", port=srv.port, journal=str(tmp_path / "r03.jsonl"), config={"lr": 0.1}) as log:
            log.scalar("loss", 0, 0.5, trace="train")
        [row] = requests.get(srv.url + PATH + ".json", timeout=30).json()["rows"]
        assert row["env"] == "r03" and row["metrics"]["loss/train"]["last"] == 0.5
        assert "parcoords" in requests.get(srv.url + PATH, timeout=30).text
        # the Plotly the page draws its parcoords with is 0.3's own too
        assert "parcoords" in requests.get(srv.url + "/static/js/plotly-plotly.min.js", timeout=30).text
        # Comparing needs the window model (numpy, tqdm): a venv without them gets one clear answer
        reply = requests.post(srv.url + PATH + "/compare", json={"ids": [row["id"]] * 2}, timeout=30)
        assert reply.json().get("windows") or (
            reply.status_code == 501 and "run `vizlab compare JOURNAL...` instead" in reply.json()["error"]), reply.text
