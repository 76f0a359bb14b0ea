"""Issue 18, finding 8: many windows per request through vizlab's POST /vizlab/batch.

Real servers: vizlab's (the logger batches), stock Visdom (it sends one window per request after
asking once), a --login server. Every window is read back with `get_window_data`. Speed is in
benchmarks/many_windows.py, not here. The fuzz properties are in test_server_fuzz.py, the other
origin and the other uid in test_server_access.py, visdom 0.3 in test_visdom03.py.
"""

import json
import os
import re

import pytest
import requests
import torch

from support.servers import stock_server
from support.windows import client, points, window, raw_traces
from vizlab import VisdomLogger, VisdomServer

pytestmark = pytest.mark.server   # starts or needs a real Visdom server

WINDOWS = 300
STEPS = 12


def requests_in(log_path):
    """{endpoint: count} of the POSTs in a server's access log (any status)."""
    counts = {}
    for endpoint in re.findall(r"tornado\.access:\d+ POST /([\w/]+)", open(log_path).read()):
        counts[endpoint] = counts.get(endpoint, 0) + 1
    return counts


def log_many(port, env, tmp_path, windows=WINDOWS):
    """`windows` line windows of STEPS points, a decimated one, a text, an image, one declared
    window that never gets a point; flushed twice (creation, then appends)."""
    with VisdomLogger(env=env, port=port, journal=str(tmp_path / f"{env}.jsonl"), max_points=40) as log:
        log.window("declared", kind="line")
        for step in range(STEPS):
            for w in range(windows):
                log.scalar(f"w{w}", step, w + step / 10)
            if step == STEPS // 2:
                assert log.flush(timeout=120)
        for step in range(500):
            log.scalars("long", step, {"a": float(step), "b": -float(step)})
        log.text("note", "<b>batched</b>")
        log.images("grid", torch.zeros(2, 1, 4, 4))
        assert log.flush(timeout=120)
        with log._writer.model_lock:
            long_shown = {n: t.shown() for n, t in log._writer.model.windows["long"].traces.items()}
    return long_shown


def check_every_window(port, env, windows, long_shown):
    for w in range(windows):
        assert points(port, env, f"w{w}") == {"value": {s: w + s / 10 for s in range(STEPS)}}, w
    long = {t["name"]: (t["x"], t["y"]) for t in raw_traces(window(port, env, "long")["content"]["data"])}
    assert long == long_shown and len(long["a"][0]) <= 40
    assert window(port, env, "note")["content"] == "<b>batched</b>"
    assert window(port, env, "grid")["content"]["src"].startswith("data:image/png;base64,")
    assert window(port, env, "declared")["type"] == "plot"


def test_many_windows_arrive_through_the_batch_endpoint(tmp_path):
    with VisdomServer(env_path=tmp_path / "env", log_path=tmp_path / "server.log") as srv:
        long_shown = log_many(srv.port, "batch_many", tmp_path)
        check_every_window(srv.port, "batch_many", WINDOWS, long_shown)
    # Every window went in batches of many: no /update request of its own, and no /events but
    # the landing index's two rows in env main (vizlab.landing: "running", then "closed").
    sent = requests_in(srv.log_path)   # read once the server stopped: every line written
    assert sent.get("events", 0) <= 2 and sent.get("update", 0) == 0, sent
    assert 2 <= sent["vizlab/batch"] <= 40, sent


def test_a_stock_server_is_asked_once_then_gets_one_window_per_request(tmp_path):
    """The probe is a GET, which stock Visdom answers with its page (no error in its log)."""
    with stock_server(tmp_path) as srv:
        long_shown = log_many(srv.port, "batch_stock", tmp_path, windows=40)
        check_every_window(srv.port, "batch_stock", 40, long_shown)
    sent = requests_in(srv.log_path)
    # one request per window and flush (whole or append: a trace passing 10 points is sent whole
    # once, its markers going)
    assert sent.get("vizlab/batch", 0) == 0 and sent.get("events", 0) + sent.get("update", 0) >= 80, sent
    log = open(srv.log_path).read()
    assert log.count("GET /vizlab/batch") == 1 and "Traceback" not in log   # asked once, quietly


def test_each_item_answers_what_its_own_request_would(tmp_path):
    with VisdomServer(env_path=tmp_path / "env") as srv:
        line = {"eid": "batch_items", "win": "made", "layout": {}, "opts": {},
                "data": [{"x": [0, 1], "y": [1.0, 2.0], "name": "a", "type": "scatter", "mode": "lines"}]}
        append = {"eid": "batch_items", "win": "made", "append": True, "name": "a",
                  "data": [{"x": [2], "y": [3.0], "type": "scatter"}]}
        ghost = dict(append, win="ghost")        # no such window, no layout: refused, not made
        items = [["events", line], ["update", append], ["update", ghost], ["update", {"eid": "batch_items"}]]
        reply = requests.post(srv.url + "/vizlab/batch", data=json.dumps({"requests": items}), timeout=30)
        assert reply.status_code == 200 and reply.headers["X-Vizlab-Batch"] == "1"
        assert reply.json() == [[200, "made"], [200, "made"], [500, ""], [500, ""]]
        assert points(srv.port, "batch_items", "made") == {"a": {0: 1.0, 1: 2.0, 2: 3.0}}
        exists = requests.post(srv.url + "/win_exists", data=json.dumps({"eid": "batch_items", "win": "ghost"}))
        assert exists.text == "false"
        assert srv.process.poll() is None


@pytest.fixture
def login_env(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    (tmp_path / "home").mkdir()
    monkeypatch.setenv("VISDOM_USERNAME", "owner")
    monkeypatch.setenv("VISDOM_PASSWORD", "pw-" + os.urandom(4).hex())


def test_a_login_server_takes_batches_only_after_the_login(tmp_path, login_env):
    with VisdomServer(env_path=tmp_path / "env", login=True, log_path=tmp_path / "server.log") as srv:
        planted = {"requests": [["events", {"eid": "batch_login", "win": "planted", "layout": {}, "opts": {},
                                            "data": [{"x": [1], "y": [1], "type": "scatter"}]}]]}
        assert requests.post(srv.url + "/vizlab/batch", data=json.dumps(planted)).status_code == 400
        with VisdomLogger(env="batch_login", port=srv.port, journal=False) as log:
            for step in range(5):
                for w in range(20):
                    log.scalar(f"w{w}", step, float(step))
            assert log.flush(timeout=60)
        assert all(points(srv.port, "batch_login", f"w{w}") == {"value": {s: float(s) for s in range(5)}}
                   for w in range(20))
        assert client(srv.port).win_exists("planted", env="batch_login") is False
    sent = requests_in(srv.log_path)
    assert sent.get("vizlab/batch", 0) >= 1 and sent.get("update", 0) == 0, sent


def test_a_batch_over_a_mebibyte_goes_in_several_requests_in_order(tmp_path):
    from vizlab.connection import BATCH_BYTES, Connection

    with VisdomServer(env_path=tmp_path / "env", log_path=tmp_path / "server.log") as srv:
        xs = list(range(12_000))
        items = [("events", {"eid": "batch_big", "win": f"b{w}", "layout": {}, "opts": {},
                             "data": [{"x": xs, "y": [w + 0.5] * len(xs), "name": "a", "type": "scatter"}]})
                 for w in range(20)]
        size = sum(len(json.dumps(m)) for _, m in items)
        assert size > 2 * BATCH_BYTES
        replies = Connection("127.0.0.1", srv.port).post_batch(items + [("win_exists", {"eid": "batch_big", "win": "b3"})])
        assert replies == [(200, f"b{w}") for w in range(20)] + [(200, "true")]
        assert points(srv.port, "batch_big", "b19") == {"a": {x: 19.5 for x in xs}}
    assert 3 <= requests_in(srv.log_path)["vizlab/batch"] <= 20   # read once the server stopped
