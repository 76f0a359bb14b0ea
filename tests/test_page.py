"""A page that reads well for anyone's code: sparse traces draw markers, per-epoch windows say
"epoch", a multi-trace window's y label does not repeat its name, and legends go under the plot
so that long names never narrow it (measured in headless Chromium). Real servers, read back."""

import json
import os

import pytest

from support import browser as vb
from vizlab import VisdomLogger, VisdomServer
from vizlab.cli.compare import compare
from vizlab.cli.replay import replay
from vizlab.windows import SPARSE_POINTS, Windows

pytestmark = pytest.mark.server   # starts or needs a real Visdom server

LONG = ["lr=0.1, batch_size=64, optimizer=adam, seed=1", "lr=0.01, batch_size=64, optimizer=sgd, seed=2"]


def window(viz, env, win):
    return json.loads(viz.get_window_data(win, env=env))["content"]


def modes(content):
    return {t["name"]: t["mode"] for t in content["data"]}


def test_one_epoch_val_window_draws_markers_and_says_epoch(visdom_server, viz, tmp_path):
    journal = tmp_path / "run.jsonl"
    with VisdomLogger(env="pg_sparse", port=visdom_server.port, journal=str(journal)) as log:
        log.window("val", xlabel="epoch")
        log.scalars("val", 1, {"loss": 0.5, "accuracy": 0.9})   # one epoch: one point per trace
        log.scalar("lr", 0, 0.1)
        assert log.flush()
    val = window(viz, "pg_sparse", "val")
    assert modes(val) == {"loss": "lines+markers", "accuracy": "lines+markers"}
    assert all(t["marker"]["size"] > 0 for t in val["data"])
    assert val["layout"]["xaxis"]["title"] == "epoch"
    assert "title" not in val["layout"]["yaxis"]      # two traces: the legend names them
    lr = window(viz, "pg_sparse", "lr")["layout"]
    assert (lr["xaxis"]["title"], lr["yaxis"]["title"]) == ("step", "lr")   # the defaults
    # the journal draws the same on replay
    replay(str(journal), port=visdom_server.port, env="pg_sparse_replayed")
    again = window(viz, "pg_sparse_replayed", "val")
    assert modes(again) == modes(val) and again["layout"]["xaxis"] == val["layout"]["xaxis"]


def test_markers_go_when_the_trace_grows_and_appends_keep_every_point(visdom_server, viz):
    n = 3 * SPARSE_POINTS
    with VisdomLogger(env="pg_dense", port=visdom_server.port, journal=False) as log:
        for step in range(SPARSE_POINTS):
            log.scalar("loss", step, 1.0 / (step + 1))
        assert log.flush()
        assert modes(window(viz, "pg_dense", "loss")) == {"value": "lines+markers"}
        for step in range(SPARSE_POINTS, n):
            log.scalar("loss", step, 1.0 / (step + 1))
            if step % 5 == 0:
                assert log.flush()     # sends in between: later points arrive as appends
        assert log.flush()
        content = window(viz, "pg_dense", "loss")
    assert modes(content) == {"value": "lines"}
    assert content["data"][0]["x"] == list(range(n))
    # a window that asks for markers (or none) keeps what it asked for
    with VisdomLogger(env="pg_dense", port=visdom_server.port, journal=False) as log:
        log.window("always", markers=True)
        log.window("never", markers=False)
        for step in range(n):
            log.scalars("always", step, {"a": 1.0})
        log.scalar("never", 0, 1.0)
        assert log.flush()
    assert modes(window(viz, "pg_dense", "always")) == {"a": "lines+markers"}
    assert modes(window(viz, "pg_dense", "never")) == {"value": "lines"}


def test_mode_changes_with_one_whole_send_not_per_append():
    model = Windows("e", 10_000)
    kinds = []
    for step in range(4 * SPARSE_POINTS):
        model.apply({"op": "scalars", "win": "loss", "x": step, "y": {"value": 1.0}})
        for name in model.changed():
            endpoint, message, ticket = model.request(name)
            kinds.append("append" if endpoint == "update" else message["data"][0]["mode"])
            model.delivered(name, ticket)
    assert kinds[0] == "lines+markers"
    assert kinds.count("lines") == 1 and kinds.index("lines") == SPARSE_POINTS   # at the 11th point
    assert kinds.count("append") == len(kinds) - 2


def test_compare_draws_single_points_with_markers(visdom_server, viz, tmp_path):
    paths = []
    for i, lr in enumerate((0.1, 0.01)):
        path = tmp_path / f"run{i}.jsonl"
        with VisdomLogger(env=f"pg_cmp{i}", journal=str(path), send=False) as log:
            log.window("val", xlabel="epoch")
            log.scalar("val", 1, lr, trace="accuracy")
            for step in range(50):
                log.scalar("loss", step, lr / (step + 1))
        paths.append(str(path))
    compare(paths, port=visdom_server.port, env="pg_compare")
    val = window(viz, "pg_compare", "val")
    assert set(modes(val).values()) == {"lines+markers"} and len(val["data"]) == 2
    assert val["layout"]["xaxis"]["title"] == "epoch"
    assert set(modes(window(viz, "pg_compare", "loss")).values()) == {"lines"}


# --- in Chromium: the plot keeps most of the pane, whatever the legend's names

PLOT_AREA_JS = """(id) => {
  const item = Array.from(document.querySelectorAll('.react-grid-item')).find(el => {
    const k = Object.keys(el).find(k => k.startsWith('__reactInternalInstance$')
                                       || k.startsWith('__reactFiber$'));
    return k && el[k].key === id; });
  const plot = item.querySelector('.js-plotly-plot');
  return {pane: item.getBoundingClientRect().width,
          plot: plot.querySelector('.nsewdrag').getBoundingClientRect().width,
          size: plot._fullLayout._size, legend: plot._fullLayout.legend.orientation,
          legend_box: plot.querySelector('.legend').getBoundingClientRect().toJSON(),
          xtitle: plot.querySelector('.xtitle').getBoundingClientRect().toJSON()};
}"""


@pytest.fixture(scope="module")
def chromium():
    vb.require_chromium(pytest)
    with vb.open_browser() as browser:
        yield browser


def test_long_legend_names_leave_the_plot_most_of_the_pane(chromium, tmp_path):
    paths = []
    with VisdomServer() as server:
        with VisdomLogger(env="pg_legend", port=server.port, journal=False) as log:
            for step in range(30):
                log.scalars("loss", step, {name: 1.0 / (step + 1 + k) for k, name in enumerate(LONG)})
            assert log.flush()
        for i in range(3):   # compare names runs by their journals' names here: long ones
            path = tmp_path / f"a-rather-long-run-name-{i}-20261202-064400.jsonl"
            with VisdomLogger(env="pg_legend_run", journal=str(path), send=False) as log:
                for step in range(30):
                    log.scalars("val", step, {"loss": 1.0 / (step + 1 + i), "accuracy": 0.5})
            paths.append(str(path))
        compare(paths, port=server.port, env="pg_legend_cmp")
        for env, win, names in (("pg_legend", "loss", 2), ("pg_legend_cmp", "val", 6)):
            page, problems = vb.open_dashboard(chromium, server.url, env)
            drawn = vb.wait_for_panes(page, [win])
            assert len(drawn[win]["legend"]) == names
            area = page.evaluate(PLOT_AREA_JS, win)
            if os.environ.get("VIZLAB_PAGE_SHOTS"):   # a picture for the docs
                page.screenshot(path=os.path.join(os.environ["VIZLAB_PAGE_SHOTS"], f"{env}.png"))
            page.close()
            assert area["plot"] >= 0.6 * area["pane"], area
            assert area["legend"] == "h"
            assert area["size"]["h"] >= 150, area   # nor flattened: compare's pane grows per row
            # under the x axis title, not over it
            assert area["legend_box"]["top"] >= area["xtitle"]["bottom"] - 1, area
            assert problems.messages() == []
