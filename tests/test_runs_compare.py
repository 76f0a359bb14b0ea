"""Seed bands for the runs chosen in the runs table (issue 30): runs ticked on /vizlab/runs in
Chromium, compared by the server with `vizlab compare`'s code, the compare env read back."""

import pytest
import requests

from vizlab import VisdomLogger
from vizlab.server.process import VisdomServer
from vizlab.server.runs_page import LOGDIRS_ENV, PATH
from support.browser import PageProblems, open_browser, require_chromium
from support.windows import page as env_page, traces
from test_compare_groups import RUNS, check_bands, log_runs, value, wait_for

pytestmark = pytest.mark.server   # starts a real Visdom server

COMPARE = PATH + "/compare"


@pytest.fixture
def server(tmp_path, monkeypatch):
    """A server whose logdir holds the five runs of test_compare_groups (three seeds of lr 0.1,
    two of lr 0.01) and one run not to be chosen (lr 0.5)."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    (tmp_path / "home").mkdir()
    logs = tmp_path / "logs"
    logs.mkdir(mode=0o700)
    sweep = log_runs(logs, steps=20)
    log_runs(logs, steps=20, env="other", runs=[(0.5, 0)])
    monkeypatch.setenv(LOGDIRS_ENV, str(logs))
    with VisdomServer(env_path=tmp_path / "envs", log_path=tmp_path / "server.log") as srv:
        srv.sweep = sweep
        yield srv


def ids_of(server, paths):
    rows = requests.get(server.url + PATH + ".json", timeout=30).json()["rows"]
    by_path = {row["journal"]: row["id"] for row in rows}
    return [by_path[p] for p in paths]


def group_names(shown):
    return {name for name, trace in shown.items() if trace.get("showlegend", True)}


GROUPS = {f"lr={lr} ({n} seeds) {t}" for lr, n in ((0.1, 3), (0.01, 2)) for t in ("train", "val")}


@pytest.mark.browser
def test_runs_ticked_in_chromium_are_drawn_as_seed_bands(server, tmp_path):
    require_chromium(pytest)
    chosen = ids_of(server, server.sweep)
    with open_browser() as browser:
        tab = browser.new_page(viewport={"width": 1400, "height": 1000})
        problems = PageProblems(tab)
        tab.goto(server.url + PATH, wait_until="load")
        tab.wait_for_function("document.querySelectorAll('#runs tbody tr').length === 6", timeout=30_000)
        assert tab.is_disabled("#compare")                  # nothing ticked: nothing to compare
        tab.click("th[data-key='s:lr']")                    # sorting keeps the ticks
        for i, run_id in enumerate(chosen):
            tab.check(f"input.pick[data-id='{run_id}']")
            assert tab.is_disabled("#compare") == (i == 0)  # two or more
            tab.click("th[data-key='s:seed']")
        assert tab.eval_on_selector_all("input.pick:checked", "boxes => boxes.length") == 5
        assert tab.eval_on_selector("#groupby", "s => s.value") == "seed"
        tab.fill("#cmpenv", "picked")
        tab.click("#compare")
        tab.wait_for_selector("#compared-link", timeout=60_000)
        assert "5 runs" in tab.inner_text("#compared")
        tab.screenshot(path=str(tmp_path / "runs_compare.png"), full_page=True)
        with tab.context.expect_page() as opened:
            tab.click("#compared-link")
        dashboard = opened.value
        dashboard.wait_for_url("**/env/picked", timeout=30_000)
        dashboard.wait_for_selector(".js-plotly-plot .scatterlayer", timeout=30_000)   # the bands drawn

        shown = traces(server.port, "picked", "loss")
        assert group_names(shown) == GROUPS                 # the lr=0.5 run was not ticked
        check_bands(shown, 20)                              # means to 1e-9, edges mean ± std
        assert list(env_page(server.port, "picked"))[0] == "runs"

        tab.select_option("#band", "minmax")                # the same runs, min-max bands
        tab.fill("#cmpenv", "picked_minmax")
        tab.click("#compare")
        tab.wait_for_selector("#compared-link[href='../env/picked_minmax']", timeout=60_000)
        check_bands(traces(server.port, "picked_minmax", "loss"), 20, "minmax")
        assert problems.messages() == []


def test_a_comparison_follows_a_run_still_logging(server, tmp_path):
    live_path = str(tmp_path / "logs" / "live.jsonl")
    live = VisdomLogger(env="sweep", journal=live_path, send=False, interval=0.05,
                        config={"lr": 0.1, "seed": 2, "epochs": 3})
    try:
        for step in range(5):
            live.scalars("loss", step, {"train": value(0.1, 2, step), "val": 2 * value(0.1, 2, step)})
        live.journal_offset()   # what it logged is in the journal
        reply = requests.post(server.url + COMPARE, timeout=60,
                              json={"ids": ids_of(server, server.sweep[:2] + [live_path]), "env": "followed"})
        assert reply.status_code == 200, reply.text
        name = "mean (3 seeds) train"   # one group: no setting differs between groups
        assert traces(server.port, "followed", "loss")[name]["x"] == list(range(5))
        for step in range(5, 10):
            live.scalars("loss", step, {"train": value(0.1, 2, step), "val": 2 * value(0.1, 2, step)})
        live.journal_offset()
        assert wait_for(lambda: traces(server.port, "followed", "loss")[name]["x"] == list(range(10)))
        mean = traces(server.port, "followed", "loss")[name]["y"]
        assert mean[9] == pytest.approx(sum(value(0.1, s, 9) for s in range(3)) / 3, abs=1e-9)
    finally:
        live.close()


def test_the_choice_is_checked_and_group_by_none_draws_a_line_per_run(server):
    chosen = ids_of(server, server.sweep)

    def compare(**body):
        return requests.post(server.url + COMPARE, json=body, timeout=60)

    reply = compare(ids=chosen, env="each", group_by="none")
    assert reply.json() == {"env": "each", "windows": 2, "runs": 5}   # the runs table and loss
    assert len(group_names(traces(server.port, "each", "loss"))) == 2 * len(RUNS)
    for body, error in ((dict(ids=chosen[:1]), "compare needs two or more journals, got 1"),
                        (dict(ids=chosen[:2] + ["nope"]), "no longer known to this server"),
                        (dict(ids=chosen, band="iqr"), "use one of std, minmax"),
                        (dict(ids=chosen, env="../x"), "names may not contain '/'"),
                        (dict(ids="all"), '"ids" must be a list')):
        reply = compare(**body)
        assert reply.status_code == 400 and error in reply.json()["error"], (body, reply.text)
