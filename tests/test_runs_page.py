"""The runs table (GET /vizlab/runs on the servers vizlab starts): every run the server knows, read
back from a real server and clicked through in Chromium (issue 30)."""

import csv
import hashlib
import io
import os
import signal
import subprocess
import sys

import pytest
import requests

from vizlab import VisdomLogger
from vizlab import export
from vizlab.server.process import VisdomServer
from vizlab.server.runs_page import LOGDIRS_ENV, PATH
from support.browser import PageProblems, open_browser, require_chromium

pytestmark = pytest.mark.server   # starts a real Visdom server

SWEEP = [(0.1, 0), (0.1, 1), (0.01, 0)]


def loss(lr, seed, step):
    return 1.0 / (1 + lr * step) + 0.01 * seed


@pytest.fixture
def server(tmp_path, monkeypatch):
    """A server with three runs logged to it (finished) and one under its logdir."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    (tmp_path / "home").mkdir()
    logs = tmp_path / "logs"
    with VisdomLogger(env="offline", journal=str(logs / "offline.jsonl"), send=False,
                      config={"lr": 0.5, "seed": 9}) as log:
        log.scalar("acc", 0, 0.5, trace="val")
    monkeypatch.setenv(LOGDIRS_ENV, str(logs))
    with VisdomServer(env_path=tmp_path / "envs") as srv:
        for lr, seed in SWEEP:
            with VisdomLogger(env=f"run-lr{lr}-s{seed}", port=srv.port, journal=str(tmp_path / f"{lr}-{seed}.jsonl"),
                              config={"lr": lr, "seed": seed, "epochs": 5}) as log:
                for step in range(20):
                    log.scalar("loss", step, loss(lr, seed, step), trace="train")
                    log.scalar("acc", step, 1 - loss(lr, seed, step), trace="val")
        yield srv


def test_the_table_lists_every_run_with_state_settings_and_metrics(server):
    table = requests.get(server.url + PATH + ".json", timeout=30).json()
    rows = {r["env"]: r for r in table["rows"]}
    assert set(rows) == {f"run-lr{lr}-s{s}" for lr, s in SWEEP} | {"offline"}
    assert table["differing"][:2] == ["lr", "seed"] and "epochs" in table["differing"]   # offline lacks it
    for lr, seed in SWEEP:
        row = rows[f"run-lr{lr}-s{seed}"]
        assert row["state"] == "finished" and row["duration"] >= 0 and row["start"] > 0
        assert row["settings"]["lr"] == str(lr)
        train = row["metrics"]["loss/train"]
        assert train["last"] == loss(lr, seed, 19) and train["best"] == min(loss(lr, seed, s) for s in range(20))
        assert row["metrics"]["acc/val"]["best"] == max(1 - loss(lr, seed, s) for s in range(20))
    csv_text = requests.get(server.url + PATH + ".csv", params={"id": rows["offline"]["id"]}, timeout=30).text
    assert list(csv.reader(io.StringIO(csv_text))) == [list(export.COLUMNS), ["offline", "acc", "val", "0", "0.5"]]
    assert requests.get(server.url + PATH + ".csv", params={"id": "nope"}, timeout=30).status_code == 404


@pytest.mark.browser
def test_the_table_sorts_filters_and_draws_parallel_coordinates_in_chromium(server, tmp_path):
    require_chromium(pytest)
    with open_browser() as browser:
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        problems = PageProblems(page)
        page.goto(server.url + PATH, wait_until="load")
        page.wait_for_function("document.querySelectorAll('#runs tbody tr').length === 4", timeout=30_000)
        envs = lambda: page.eval_on_selector_all("#runs tbody tr", "rows => rows.map(r => r.dataset.env)")
        page.click("th[data-key='l:loss/train']")          # ascending by the last training loss
        ordered = sorted(SWEEP, key=lambda r: loss(r[0], r[1], 19))
        assert envs() == [f"run-lr{lr}-s{s}" for lr, s in ordered] + ["offline"]   # no loss: last
        page.click("th[data-key='l:loss/train']")          # again: descending
        assert envs()[:3] == [f"run-lr{lr}-s{s}" for lr, s in reversed(ordered)]
        page.fill("#filter", "0.01")
        assert envs() == ["run-lr0.01-s0"]
        page.fill("#filter", "")
        page.wait_for_selector("#parcoords .parcoords", timeout=30_000)   # Plotly drew the parcoords
        page.screenshot(path=str(tmp_path / "runs.png"), full_page=True)
        page.click("a[href='../env/run-lr0.1-s0']")
        page.wait_for_url("**/env/run-lr0.1-s0", timeout=30_000)
        assert problems.messages() == []


CHILD = """
import sys, time
from vizlab import VisdomLogger
log = VisdomLogger(env="stopped", journal=sys.argv[1], send=False)
log.scalar("loss", 0, 1.0)
log.journal_offset()
print("logged", flush=True)
time.sleep(600)
"""


def test_running_crashed_and_interrupted_runs_say_so(tmp_path, monkeypatch):
    """Each state from its real cause: a logger still open, a `with` block that raised, a
    process ended by SIGTERM."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    (tmp_path / "home").mkdir()
    logs = tmp_path / "logs"
    logs.mkdir(mode=0o700)
    monkeypatch.setenv(LOGDIRS_ENV, str(logs))
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(logs / "stopped.jsonl")], stdout=subprocess.PIPE,
                             text=True)
    try:
        assert child.stdout.readline() == "logged\n"
        child.send_signal(signal.SIGTERM)
        child.wait(120)
    finally:
        child.kill()
    with pytest.raises(RuntimeError):
        with VisdomLogger(env="raised", journal=str(logs / "raised.jsonl"), send=False) as log:
            log.scalar("loss", 0, 1.0)
            raise RuntimeError("diverged")
    running = VisdomLogger(env="open", journal=str(logs / "open.jsonl"), send=False)
    try:
        running.scalar("loss", 0, 1.0)
        running.journal_offset()
        with VisdomServer(env_path=tmp_path / "envs") as srv:
            rows = requests.get(srv.url + PATH + ".json", timeout=30).json()["rows"]
        assert {r["env"]: r["state"] for r in rows} == {"stopped": "interrupted", "raised": "crashed",
                                                        "open": "running"}
    finally:
        running.close()


def test_with_visdoms_login_on_the_runs_page_wants_it(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    (tmp_path / "home").mkdir()
    monkeypatch.setenv("VISDOM_USERNAME", "owner")
    monkeypatch.setenv("VISDOM_PASSWORD", password := "pw-" + os.urandom(4).hex())
    logs = tmp_path / "logs"
    with VisdomLogger(env="a", journal=str(logs / "a.jsonl"), send=False) as log:
        log.scalar("loss", 0, 1.0)
    monkeypatch.setenv(LOGDIRS_ENV, str(logs))
    with VisdomServer(env_path=tmp_path / "envs", login=True) as srv:
        stranger = requests.Session()
        assert stranger.get(srv.url + PATH + ".json", timeout=30).status_code == 403
        assert stranger.get(srv.url + PATH + ".csv", params={"id": "x"}, timeout=30).status_code == 403
        assert stranger.post(srv.url + PATH + "/compare", json={"ids": []}, timeout=30).status_code == 403
        page = stranger.get(srv.url + PATH, timeout=30, allow_redirects=False)
        assert page.status_code == 302 and "parcoords" not in page.text
        owner = requests.Session()
        assert owner.post(srv.url + "/", timeout=30, json={
            "username": "owner", "password": hashlib.sha256(password.encode()).hexdigest()}).ok
        [row] = owner.get(srv.url + PATH + ".json", timeout=30).json()["rows"]
        assert row["env"] == "a" and "parcoords" in owner.get(srv.url + PATH, timeout=30).text
