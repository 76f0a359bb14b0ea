"""The page vizlab's servers serve (vizlab/server/page_patch.py) keeps up by appends: in headless
Chromium, the traces it draws equal the server's windows after 10,000 appends to 4 windows, a
decimation stride change and an empty restart, and it never asks for the env again; on visdom
0.3's page too."""

import hashlib
import json
import random
from pathlib import Path

import pytest
import visdom

from support.browser import open_browser, open_dashboard, require_chromium, wait_for_points
from support.windows import window
from vizlab import VisdomLogger, VisdomServer
from vizlab.server import page_patch
from test_visdom03 import python03  # noqa: F401  (fixture: the visdom 0.3 interpreter)

pytestmark = [pytest.mark.browser, pytest.mark.server]

LINES = ["loss", "accuracy", "lr", "grad_norm"]

# The x and y arrays each line pane's plot holds ({window id: [[xs, ys], ...]}).
_DRAWN_JS = """() => Object.fromEntries(Array.from(document.querySelectorAll('.react-grid-item')).map(item => {
  const k = Object.keys(item).find(k => k.startsWith('__reactInternalInstance$') || k.startsWith('__reactFiber$'));
  const plot = item.querySelector('.js-plotly-plot');
  return [k ? item[k].key : null, plot && plot.data ? plot.data.map(t => [Array.from(t.x || []), Array.from(t.y || [])]) : []];
}))"""


@pytest.fixture(scope="module")
def browser():
    require_chromium(pytest)
    with open_browser() as b:
        yield b


class Watched:
    """A page on env `env` that counts its env reloads and the messages its websocket brings."""

    def __init__(self, browser, url, env):
        self.env_posts, self.messages, self.scripts = [], [], []
        self.page, self.problems = open_dashboard(browser, url, env, listen=self._listen)

    def _listen(self, page):   # before the page loads: every message and request is seen
        page.on("request", lambda r: self.env_posts.append(r.url)
                if r.method == "POST" and "/env/" in r.url else None)
        page.on("request", lambda r: self.scripts.append(r.url) if "/main.js" in r.url else None)
        page.on("websocket", lambda ws: ws.on("framereceived", self._frame))

    def _frame(self, text):
        try:
            message = json.loads(text)
        except ValueError:
            return
        if isinstance(message, dict):
            self.messages.append((message.get("command"), message.get("win") or message.get("id"),
                                  "vizlab_append" in message))

    def converges(self, port, env, wins, timeout=60.0):
        """Wait until the page draws exactly the server's traces of `wins`; True when it does."""
        expected = {w: [[t["x"], t["y"]] for t in window(port, env, w)["content"]["data"]] for w in wins}
        try:
            self.page.wait_for_function(f"want => {{ const d = ({_DRAWN_JS})(); return Object.keys(want).every("
                                        "w => JSON.stringify((d[w] || []).slice(0, want[w].length)) === "
                                        "JSON.stringify(want[w])); }", arg=expected, timeout=timeout * 1000,
                                        polling=250)
        except Exception:
            drawn = self.page.evaluate(_DRAWN_JS)
            print({w: ([len(t[0]) for t in drawn.get(w, [])], [len(t[0]) for t in expected[w]]) for w in wins})
            return False
        return True


def compact_and_whole(watched, wins):
    line_messages = [m for m in watched.messages if m[1] in wins]
    compact = sum(1 for command, _, packed in line_messages if command == "window_update" and packed)
    whole = sum(1 for command, _, _ in line_messages if command == "window")
    return compact, whole


def log_steps(log, start, count, rng, wins=LINES):
    for step in range(start, start + count):
        for win in wins:
            log.scalar(win, step, rng.random())


def test_ten_thousand_appends_to_four_windows_arrive_as_appends(browser, visdom_server, tmp_path):
    env, rng = "page_appends_many", random.Random(0)
    with VisdomLogger(env=env, port=visdom_server.port, journal=str(tmp_path / "j.jsonl"), status=False) as log:
        log_steps(log, 0, 1, rng)
        assert log.flush(timeout=60)
        watched = Watched(browser, visdom_server.url, env)
        for win in LINES:
            wait_for_points(watched.page, win, 0)
        loaded = len(watched.env_posts)
        # the patched script, under its own ?v= (a browser keeps a stock server's main.js for years)
        source = (Path(visdom.__file__).parent / "static" / "js" / "main.js").read_text()
        body = page_patch.patched(source).encode("utf-8")
        assert [u.split("?v=")[-1] for u in watched.scripts] == [hashlib.md5(body).hexdigest()]
        for start in range(1, 2_501, 50):          # 2,500 steps x 4 windows: 10,000 appends
            log_steps(log, start, 50, rng)
            assert log.flush(timeout=60)
        assert watched.converges(visdom_server.port, env, LINES)
        watched.page.evaluate("1")                 # take the page's events in
        drawn = watched.page.evaluate(_DRAWN_JS)
        watched.page.close()
    assert {w: len(drawn[w][0][0]) for w in LINES} == {w: 2_501 for w in LINES}
    assert watched.env_posts[loaded:] == [], "the page asked for the whole env again"
    compact, whole = compact_and_whole(watched, LINES)
    assert compact >= 4 * 40, watched.messages[:20]   # a flush of 50 steps is an append per window
    # whole windows: the page's first load, the first append (bigger than a 1-point pane), the
    # markers leaving a trace that grew (test_page.py); never for the appends after those
    assert whole <= 3 * 4, watched.messages[:20]
    assert watched.problems.messages() == []


def test_a_decimation_stride_change_and_an_empty_restart_converge(browser, tmp_path):
    env, rng = "page_appends_restart", random.Random(1)
    with VisdomServer(env_path=tmp_path / "env") as srv:
        with VisdomLogger(env=env, port=srv.port, journal=str(tmp_path / "j.jsonl"), status=False,
                          max_points=200) as log:
            log_steps(log, 0, 1, rng, ["loss"])
            assert log.flush(timeout=60)
            watched = Watched(browser, srv.url, env)
            wait_for_points(watched.page, "loss", 0)
            loaded = len(watched.env_posts)
            for start in range(1, 3_001, 100):     # past 200 points: the stride doubles ~4 times
                log_steps(log, start, 100, rng, ["loss"])
                assert log.flush(timeout=60)
            assert watched.converges(srv.port, env, ["loss"])
            assert watched.env_posts[loaded:] == [], "the page asked for the whole env again"
            watched.page.close()

            srv.stop()
            srv.start()                           # same port, empty: the logger rebuilds the window
            log_steps(log, 3_001, 100, rng, ["loss"])
            assert log.flush(timeout=60)
            watched = Watched(browser, srv.url, env)   # the person reloads the page
            wait_for_points(watched.page, "loss", 0)
            loaded = len(watched.env_posts)
            for start in range(3_101, 4_001, 100):
                log_steps(log, start, 100, rng, ["loss"])
                assert log.flush(timeout=60)
            assert watched.converges(srv.port, env, ["loss"])
            assert watched.env_posts[loaded:] == [], "the page asked for the whole env again"
            watched.page.close()
    assert watched.problems.messages() == []


def test_a_zoom_stays_while_points_arrive(browser, visdom_server, tmp_path):
    """Plotly.react keeps what the person did to the plot: a zoomed x range survives appends."""
    env, rng = "page_appends_zoom", random.Random(3)
    with VisdomLogger(env=env, port=visdom_server.port, journal=str(tmp_path / "j.jsonl"), status=False) as log:
        log_steps(log, 0, 100, rng, ["loss"])
        assert log.flush(timeout=60)
        watched = Watched(browser, visdom_server.url, env)
        wait_for_points(watched.page, "loss", 99)
        plot = "document.querySelector('.js-plotly-plot')"
        watched.page.evaluate(f"() => Plotly.relayout({plot}, {{'xaxis.range': [10, 20]}})")   # as a drag does
        log_steps(log, 100, 50, rng, ["loss"])
        assert log.flush(timeout=60)
        assert watched.converges(visdom_server.port, env, ["loss"])
        axis = watched.page.evaluate(f"() => {plot}._fullLayout.xaxis.range")
        watched.page.close()
    assert axis == [10, 20]


@pytest.mark.slow
def test_visdom_03s_page_takes_compact_appends(browser, python03, tmp_path):  # noqa: F811
    env, rng = "page_appends_03", random.Random(2)
    with VisdomServer(python=python03, env_path=tmp_path / "env") as srv:
        with VisdomLogger(env=env, port=srv.port, journal=str(tmp_path / "j.jsonl"), status=False) as log:
            log_steps(log, 0, 1, rng, LINES[:2])
            assert log.flush(timeout=60)
            watched = Watched(browser, srv.url, env)
            assert watched.page.evaluate("() => typeof window.__vizlabExpand") == "function"
            for win in LINES[:2]:
                wait_for_points(watched.page, win, 0)
            loaded = len(watched.env_posts)
            for start in range(1, 1_001, 50):
                log_steps(log, start, 50, rng, LINES[:2])
                assert log.flush(timeout=60)
            assert watched.converges(srv.port, env, LINES[:2])
            watched.page.evaluate("1")
            watched.page.close()
    assert watched.env_posts[loaded:] == [], "the page asked for the whole env again"
    compact, whole = compact_and_whole(watched, LINES[:2])
    assert compact >= 2 * 15 and whole <= 3 * 2, watched.messages[:20]
    # 0.3's page asks for /env/favicon.png (its index links the icon relatively): stock, not ours
    assert [m for m in watched.problems.messages() if "favicon" not in m] == []


def test_the_page_script_of_this_visdom_is_patched():
    """Every edit finds its place in the installed visdom's page script (an upgrade that moves one
    serves the stock page, and says so, instead of a broken one)."""
    source = (Path(visdom.__file__).parent / "static" / "js" / "main.js").read_text()
    text = page_patch.patched(source)
    assert text is not None
    assert "window.__vizlabExpand(" in text and "Plotly.react(" in text and "Plotly.newPlot(" not in text
    assert page_patch.patched(source.replace("processBatchedPanes,100", "processBatchedPanes,50")) is None
