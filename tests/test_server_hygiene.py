"""Issue 19: what a server vizlab starts stores, keeps and leaves behind.

Refused appends store nothing (same as stock Visdom), deleted windows free their arrays,
`vizlab serve` stops its server on SIGTERM/SIGHUP, ports are checked in one line.
"""

import gc
import json
import signal
import subprocess
import sys
import types
import weakref

import pytest
import requests
from visdom.server.handlers import web_handlers as web

from support.servers import nested, stock_server
from vizlab.server import fast_append
from vizlab.server.process import VisdomServer, free_port, is_visdom, port_in_use

pytestmark = pytest.mark.server   # starts or needs a real Visdom server



def poison_then_append(url):
    """A window, an append whose y is nested 500 deep, two plain appends: (statuses, stored x)."""
    http = requests.Session()
    http.post(url + "/events", data=json.dumps({
        "eid": "poison", "win": "w", "layout": {}, "opts": {},
        "data": [{"x": [1, 2], "y": [1, 2], "type": "scatter", "mode": "lines", "name": "a"}]}))
    statuses = []
    for k, y in enumerate([nested(500), 4, 5]):
        statuses.append(http.post(url + "/update", data=json.dumps({
            "eid": "poison", "win": "w", "append": True, "name": "a",
            "data": [{"x": [3 + k], "y": [y], "type": "scatter"}]})).status_code)
    stored = http.post(url + "/win_data", data=json.dumps({"eid": "poison", "win": "w"}))
    return statuses, json.loads(stored.text)["content"]["data"][0]["x"]


def test_refused_appends_store_what_stock_stores(tmp_path):
    with stock_server(tmp_path) as stock:
        expected = poison_then_append(stock.url)
    with VisdomServer(env_path=tmp_path / "env") as ours:
        got = poison_then_append(ours.url)
    assert got == expected
    assert expected[0][1:] == [500, 500]   # the refused appends: a client may retry them


# ---- memory: nothing outlives the panes it belongs to ----

@pytest.fixture
def patched_handler(monkeypatch):
    """visdom's UpdateHandler.wrap_func with the fast path, in this process (restored after)."""
    monkeypatch.setattr(web.UpdateHandler, "wrap_func", web.UpdateHandler.wrap_func)
    assert fast_append.install()
    return web.UpdateHandler.wrap_func


def fake_request(state):
    written = []
    return types.SimpleNamespace(state=state, subs={}, sources={}, write=written.append), written


def test_deleted_windows_and_envs_free_their_arrays(patched_handler):
    """The leak of issue 19 (+50 MB per soak cycle): a cache held every appended array."""
    state = {}
    req, written = fake_request(state)
    arrays = []
    for eid in ("a", "b"):
        state[eid] = {"jsons": {}, "reload": {}}
        for win in ("w1", "w2"):
            p = web.window({"data": [{"x": [0], "y": [0], "type": "scatter", "name": "t"}],
                            "win": win, "eid": eid, "layout": {}, "opts": {}})
            state[eid]["jsons"][win] = p
            for start in range(1, 200, 50):
                patched_handler(req, {"eid": eid, "win": win, "name": "t", "append": True,
                                      "data": [{"x": list(range(start, start + 50)),
                                                "y": [0.5] * 50, "type": "scatter"}]})
            trace = state[eid]["jsons"][win]["content"]["data"][0]
            assert len(trace["x"]) == 201 and type(trace["x"]) is fast_append.TextList
            arrays += [weakref.ref(trace["x"]), weakref.ref(trace["y"])]
    assert written == (["w1"] * 4 + ["w2"] * 4) * 2 and fast_append.stats["fast"] >= 16
    del state["a"]["jsons"]["w1"]   # /close
    del state["b"]                  # /delete_env
    del p, trace                    # this test's own references
    gc.collect()
    alive = [ref() is not None for ref in arrays]
    assert alive == [False, False, True, True, False, False, False, False]
    assert vars(fast_append.PaneText()) == {}


# ---- `vizlab serve` in the foreground ----

@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP], ids=["SIGTERM", "SIGHUP"])
def test_a_signal_to_foreground_serve_stops_its_server(signum, tmp_path):
    port = free_port()
    env = {"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}
    proc = subprocess.Popen([sys.executable, "-m", "vizlab.cli", "serve", "--port", str(port),
                             "--env-path", str(tmp_path / "env")],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        assert f"Visdom is running at http://127.0.0.1:{port}" in proc.stdout.readline()
        assert is_visdom(f"http://127.0.0.1:{port}")
        proc.send_signal(signum)
        assert proc.wait(timeout=30) == 128 + signum
        assert not port_in_use(port) and not is_visdom(f"http://127.0.0.1:{port}")
    finally:
        proc.kill()
        proc.wait()


@pytest.mark.parametrize("port", ["99999", "0", "-1", "65536"])
def test_bad_ports_are_one_line(port, tmp_path):
    done = subprocess.run([sys.executable, "-m", "vizlab.cli", "serve", "--port", port],
                          capture_output=True, text=True, timeout=120,
                          env={"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"})
    assert done.returncode != 0
    assert done.stderr.strip().count("\n") == 0, done.stderr
    assert f"--port {port}: a port is a number from 1 to 65535" in done.stderr
    assert "Traceback" not in done.stderr and "taken" not in done.stderr


def test_the_token_lives_as_long_as_the_server(tmp_path, monkeypatch):
    from vizlab import protocol

    monkeypatch.setenv("HOME", str(tmp_path))
    with VisdomServer(env_path=tmp_path / "env") as srv:
        token = protocol.read_token(srv.port)
        srv.stop()
        srv.start()   # a restart keeps the token (and so the token URL)
        assert token and protocol.read_token(srv.port) == token
    assert not protocol.token_path(srv.port).exists()
