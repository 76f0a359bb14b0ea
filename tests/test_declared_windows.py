"""Windows declared once with log.window(): one journal record, option-free calls after it, and the
page in the declared order, live, after `vizlab replay` and in `vizlab compare`."""

import shutil

import pytest
import torch

from vizlab import VisdomLogger, palette
from vizlab import journal as journal_mod
from vizlab.cli.compare import compare
from vizlab.cli.replay import replay
from vizlab.smoothing import faint
from vizlab.windows import Windows
from support.windows import page

pytestmark = pytest.mark.server   # starts or needs a real Visdom server

LOSS = dict(title="loss per step", xlabel="epoch", ytype="log", width=400, height=300,
            linecolor={"train": palette.BLUE, "val": palette.ORANGE}, dash={"val": "dash"})


def styles(win):
    return {t["name"]: t.get("line", {}) for t in win["content"]["data"]}


def log_a_run(log):
    log.window("loss", **LOSS)
    log.window("samples", kind="images", width=200, height=200)
    log.window("notes", kind="text", title="notes")
    log.window("loss", **LOSS)                      # the same again (a resumed run): not repeated
    log.text("notes", "<b>logged before any loss point</b>")
    log.scalar("undeclared", 0, 1.0)
    assert log.flush(timeout=30)                    # the declared windows go out empty first
    for step in range(1, 301):
        log.scalar("loss", step, 1.0 / step, trace="train")
    log.scalar("loss", 300, 0.5, trace="val")
    log.images("samples", torch.rand(4, 1, 8, 8))


def check_page(viz, env):
    wins = page(viz, env)
    assert list(wins) == ["status", "loss", "samples", "notes", "undeclared"]   # declared first, in order
    loss = wins["loss"]
    layout = loss["content"]["layout"]
    assert (layout["title"], layout["xaxis"]["title"], layout["yaxis"]["type"]) == ("loss per step", "epoch", "log")
    assert (loss["width"], loss["height"]) == (400, 300)
    assert styles(loss) == {"train": {"color": faint(palette.BLUE)}, "train (smoothed)": {"color": palette.BLUE},
                            "val": {"color": palette.ORANGE, "dash": "dash"}}   # val: 1 point, not smoothed
    assert len(loss["content"]["data"][0]["x"]) == 300
    assert wins["samples"]["type"] == "image" and (wins["samples"]["width"], wins["samples"]["height"]) == (200, 200)
    assert wins["notes"]["title"] == "notes" and "before any loss point" in wins["notes"]["content"]


def test_declared_windows_live_replayed_and_compared(visdom_server, viz, tmp_path):
    journal = tmp_path / "run.jsonl"
    with VisdomLogger(env="declared", port=visdom_server.port, journal=str(journal)) as log:
        log_a_run(log)
        assert log.flush(timeout=30)
        check_page(viz, "declared")

    records = list(journal_mod.read(str(journal), expand=False))
    declared = [r for r in records if r["op"] == "window"]
    assert [(r["win"], r["kind"]) for r in declared] == [("loss", "line"), ("samples", "images"), ("notes", "text")]
    loss = [r for r in records if r.get("win") == "loss" and r["op"] != "window"]
    assert not any("opts" in r for r in loss)        # the options are in the declaration only
    assert sum(len(r["x"]) if r["op"] == "points" else 1 for r in loss) == 301

    replay(str(journal), port=visdom_server.port, env="declared_replayed")
    check_page(viz, "declared_replayed")

    shutil.copy(journal, tmp_path / "run2.jsonl")
    compare([str(journal), str(tmp_path / "run2.jsonl")], port=visdom_server.port, env="declared_compared")
    compared = page(viz, "declared_compared")["loss"]["content"]["layout"]
    assert (compared["title"], compared["yaxis"]["type"]) == ("loss per step", "log")


def test_declaration_under_each_calls_own_options():
    model = Windows("env", 100)
    model.apply({"op": "window", "win": "fit", "kind": "line", "opts": {"title": "declared", "ylabel": "y"}})
    model.apply({"op": "window", "win": "img", "kind": "images", "opts": {"width": 50}})
    model.apply({"op": "text", "win": "first logged", "html": "x"})
    assert model.changed() == ["fit", "img", "first logged"]   # the order the sender creates them in
    endpoint, empty, _ = model.request("fit")
    assert endpoint == "events" and empty["layout"]["title"] == "declared"
    assert [(t["x"], t["showlegend"]) for t in empty["data"]] == [([], False)]   # one empty, unnamed trace
    assert model.request("img")[1]["opts"] == {"title": "img", "width": 50}   # a blank pane holds the place

    model.apply({"op": "line", "win": "fit", "x": [0, 1], "y": {"a": [1, 2]}, "opts": {"title": "epoch 3"}})
    layout = model.request("fit")[1]["layout"]
    assert (layout["title"], layout["xaxis"]["title"], layout["yaxis"]["title"]) == ("epoch 3", "x", "y")
    model.apply({"op": "image", "win": "img", "src": "data:,", "size": [80, 60]})
    assert model.request("img")[1]["opts"] == {"title": "img", "width": 50, "height": 60}


@pytest.mark.parametrize("kwargs, message", [
    ({"kind": "histogram"}, "kind='histogram'"),
    ({"kind": "text", "ytype": "log"}, "unknown option ytype"),
    ({"linecolor": {"train": "blue"}}, "#rrggbb"),
    ({"dash": {"train": "dashed"}}, "dash"),
])
def test_bad_declarations_name_the_problem(tmp_path, kwargs, message):
    with VisdomLogger(env="bad", send=False, journal=str(tmp_path / "j.jsonl")) as log:
        with pytest.raises((ValueError, TypeError), match=message):
            log.window("w", **kwargs)
