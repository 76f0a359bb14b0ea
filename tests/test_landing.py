"""The runs index in env `vizlab` (never `main`, issue 28): every env on the server, its state,
last update and link, written by the runs themselves and by `vizlab serve`; read back from real
servers."""

import json
import re
import threading

from visdom import Visdom

from vizlab import VisdomLogger, VisdomServer, landing
from vizlab.connection import Connection
from vizlab.cli.replay import replay
from vizlab.server.process import keep_index, write_index

from test_visdom03 import python03  # noqa: F401  (the fixture: visdom 0.3's interpreter)

import pytest  # noqa: E402
pytestmark = pytest.mark.server   # starts or needs a real Visdom server

ROW = re.compile(r"<tr><td[^>]*><a href='/env/([^']+)'>[^<]*</a></td><td[^>]*>([^<]*)</td><td[^>]*>([^<]*)</td></tr>")


def index(port):
    """[(env, state, last update)] as the index pane in `main` shows them, top to bottom."""
    viz = Visdom(port=port, raise_exceptions=True, use_incoming_socket=False)
    content = json.loads(viz.get_window_data(landing.INDEX_WIN, env=landing.INDEX_ENV))["content"]
    return ROW.findall(content)


def written(log):
    """Wait for the run's closing write to the index (close() waits for it at most close_timeout)."""
    log._landing.thread.join()


def test_two_runs_are_listed_with_state_time_and_link(tmp_path):
    with VisdomServer() as server:
        journal = tmp_path / "first.jsonl"
        with VisdomLogger(env="first_run", port=server.port, journal=str(journal)) as log:
            log.scalar("loss", 0, 1.0)
            assert log.flush()
        written(log)
        with VisdomLogger(env="mnist_mlp", port=server.port, journal=False) as log:
            log.scalar("loss", 0, 1.0)
            assert log.flush()
            log._landing.thread.join()     # its "running" write, once its env is on the server
            running = index(server.port)
        written(log)
        rows = index(server.port)
        assert [r[:2] for r in rows] == [("mnist_mlp", "closed"), ("first_run", "closed")]
        assert [r[:2] for r in running] == [("mnist_mlp", "running"), ("first_run", "closed")]
        assert all(re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", r[2]) for r in rows)
        # an env made by another tool is listed too (no state known); a replay says so
        Visdom(port=server.port, raise_exceptions=True, use_incoming_socket=False).text("hi", env="plain")
        replay(str(journal), port=server.port, env="first_again")
        rows = index(server.port)
        assert rows[0][:2] == ("first_again", "replayed")
        assert ("plain", "-", "-") in rows and len(rows) == 4


def test_runs_at_once_keep_each_others_rows():
    with VisdomServer() as server:
        logs = [VisdomLogger(env=f"run{i}", port=server.port, journal=False) for i in range(4)]
        threads = [threading.Thread(target=lambda log=log: log.scalar("loss", 0, 1.0)) for log in logs]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        closers = [threading.Thread(target=log.close) for log in logs]
        for thread in closers:
            thread.start()
        for thread in closers:
            thread.join()
        for log in logs:
            written(log)
        assert sorted(r[:2] for r in index(server.port)) == [(f"run{i}", "closed") for i in range(4)]


def test_serve_keeps_the_index_and_a_missing_server_is_no_error():
    with VisdomServer() as server:
        Visdom(port=server.port, raise_exceptions=True, use_incoming_socket=False).text("x", env="saved_env")
        assert write_index(server.port) == {"saved_env"}
        assert index(server.port) == [("saved_env", "-", "-")]
        waiter = threading.Thread(target=keep_index, args=(server, 0.2))
        waiter.start()
        server.stop()         # keep_index returns when the server's process ends
        waiter.join(30)
        assert not waiter.is_alive()
    # no server: nothing raises (the run goes on without its row)
    landing.note(Connection("http://127.0.0.1", server.port), "gone", "running")


def test_main_is_left_to_raw_visdom_programs():
    """Before issue 28 the index pane was in `main`, the default env of every raw Visdom program."""
    with VisdomServer() as server:
        with VisdomLogger(env="a_run", port=server.port, journal=False) as log:
            log.scalar("loss", 0, 1.0)
            assert log.flush()
        written(log)
        assert write_index(server.port) == {"a_run"}
        viz = Visdom(port=server.port, raise_exceptions=True, use_incoming_socket=False)
        assert json.loads(viz.get_window_data(None, env="main")) == {}
        assert list(json.loads(viz.get_window_data(None, env=landing.INDEX_ENV))) == [landing.INDEX_WIN]
        assert [r[:2] for r in index(server.port)] == [("a_run", "closed")]


def test_the_index_on_a_visdom_03_server(python03):
    with VisdomServer(python=python03) as server:
        with VisdomLogger(env="run03", port=server.port, journal=False) as log:
            log.scalar("loss", 0, 1.0)
            assert log.flush()
        written(log)
        assert [r[:2] for r in index(server.port)] == [("run03", "closed")]


def test_render_escapes_and_reads_back():
    rows = {"a'b<c": {"state": "running", "time": 0}}
    content = landing.render(["a'b<c", "other"], rows)
    assert "a'b<c" not in content and "a&#x27;b&lt;c" in content
    found = landing.ROWS.search(content)
    assert json.loads(landing.html.unescape(found.group(1))) == rows


def test_a_mangled_index_is_rebuilt_not_fatal():
    with VisdomServer() as server:
        viz = Visdom(port=server.port, raise_exceptions=True, use_incoming_socket=False)
        viz.text("<div data-vizlab-rows='{&quot;x&quot;: {&quot;time&quot;: &quot;soon&quot;}, "
                 "&quot;y&quot;: 3}'></div>", win=landing.INDEX_WIN, env=landing.INDEX_ENV)
        viz.text("x", env="x")
        connection = Connection("http://127.0.0.1", server.port)
        assert landing.read_rows(connection) == {}
        landing.note(connection, "x", "running")
        assert [r[:2] for r in index(server.port)] == [("x", "running")]
