"""Visdom 0.2.4's page applies an update only when an md5 of its own JSON text of the pane equals
the server's `finalHash`; otherwise it asks for the whole env again. The servers vizlab starts
compute that hash the way the page does (vizlab/server/fast_append.py), so appends stay appends in
Chromium: no env reload, for the numbers Python and JavaScript write differently too."""

import math
import random
import time

import pytest

from support.browser import open_browser, open_dashboard, require_chromium, wait_for_points
from support.windows import window
from vizlab import VisdomLogger
from vizlab.server.fast_append import _dumps, js_number

pytestmark = [pytest.mark.browser, pytest.mark.server]


@pytest.fixture(scope="module")
def browser():
    require_chromium(pytest)
    with open_browser() as b:
        yield b


def test_numbers_are_written_as_the_browser_writes_them(browser):
    rng = random.Random(0)
    values = [0.0, -0.0, 1e-4, 1e-5, 1.5e-7, 1e-7, 9.99e-7, 1e-6, 1e15, 1e16, 1e20, 1e21, 1e22, 5e-324,
              1.7976931348623157e308, 0.1, 123.456, -2.5e-5]
    values += [rng.uniform(-1, 1) * 10 ** rng.randint(-30, 30) for _ in range(2000)]
    page = browser.new_page()
    try:
        browser_text = page.evaluate("xs => xs.map(x => JSON.stringify(x))", values)
        pane = {"b": values[:50], "a": ["é 1e-05 \"q\" \\", math.nan, math.inf], "ü": 2.0}
        browser_pane = page.evaluate("""p => { const o = x => Array.isArray(x) ? x.map(o) :
            (x && typeof x === 'object') ? Object.fromEntries(Object.keys(x).sort().map(k => [k, o(x[k])])) : x;
            return JSON.stringify(o(p)); }""", {**pane, "a": ["é 1e-05 \"q\" \\", None, None]})
    finally:
        page.close()
    ours = [_dumps(v) for v in values]
    assert [(v, o) for v, o, b in zip(values, ours, browser_text) if o != b] == []
    assert js_number(1e-5) == "0.00001" and js_number(1.5e-7) == "1.5e-7"
    assert _dumps(pane) == browser_pane


def test_appends_of_small_numbers_never_reload_the_env(browser, visdom_server, tmp_path):
    """A learning rate decaying through 1e-4 .. 1e-7: every update is applied in place."""
    env = "page_updates_small"
    with VisdomLogger(env=env, port=visdom_server.port, journal=str(tmp_path / "j.jsonl"), status=False,
                      smoothing=0.0) as log:
        log.scalar("lr", 0, 1e-3)
        assert log.flush(timeout=60)
        page, problems = open_dashboard(browser, visdom_server.url, env)
        env_posts = []   # the page asks for the whole env (POST /env/NAME) on connecting, then on a bad hash
        page.on("request", lambda r: env_posts.append(r.url) if r.method == "POST" and "/env/" in r.url else None)
        wait_for_points(page, "lr", 0)
        loaded = len(env_posts)
        for step in range(1, 121):
            log.scalar("lr", step, 1e-3 * 0.9 ** step)      # passes 1e-5 at step 44, 1e-7 at step 88
            if step % 10 == 0:
                assert log.flush(timeout=60)
                wait_for_points(page, "lr", step)             # the page drew this flush's points
        shown = wait_for_points(page, "lr", 120)
        page.close()
    assert shown == 121
    assert env_posts[loaded:] == [], f"the page reloaded the env {len(env_posts) - loaded} times"
    assert problems.messages() == []


def test_the_status_pane_is_sent_at_most_once_a_second(visdom_server, tmp_path, monkeypatch):
    """A fast loop for 3 s (the journal thread takes a batch every 0.25 s): the status pane goes
    out about once a second, its last send (the close) says finished with every step."""
    from vizlab.connection import Connection
    from vizlab.status import WIN
    sends, post, post_batch = [], Connection.post, Connection.post_batch

    def counting(items):
        sends.extend(time.monotonic() for _, message in items if message.get("win") == WIN)

    monkeypatch.setattr(Connection, "post", lambda self, e, m: (counting([(e, m)]), post(self, e, m))[1])
    monkeypatch.setattr(Connection, "post_batch", lambda self, items: (counting(items), post_batch(self, items))[1])
    env = "page_updates_status"
    with VisdomLogger(env=env, port=visdom_server.port, journal=str(tmp_path / "s.jsonl"), total_steps=3000) as log:
        start, step = time.monotonic(), 0
        while time.monotonic() - start < 3.0:
            step += 1
            log.scalar("loss", step, 1.0 / step)
            time.sleep(0.001)
        seconds = time.monotonic() - start
    assert 2 <= len(sends) <= seconds + 3, sends          # the first, about one a second, the last
    status = window(visdom_server.port, env, WIN)["content"]
    assert "data-state='finished'" in status and f"<td>{step}</td>" in status
