"""`vizlab compare`: several journals overlaid in one environment, read back from a real server."""

import math
import threading
import time

import pytest

from vizlab import VisdomLogger
from vizlab.cli import main as cli_main
from vizlab.cli.compare import compare
from vizlab.cli.run import run_runner
from support.windows import traces, window

pytestmark = pytest.mark.server   # starts or needs a real Visdom server


@pytest.fixture(scope="module")
def lr_journals(tmp_path_factory):
    """Two real linear_regression runs that differ only in lr, journal only."""
    folder = tmp_path_factory.mktemp("journals")
    paths, finals = [], []
    for lr in ("0.05", "0.02"):
        path = folder / f"linear-lr{lr}.jsonl"
        finals.append(run_runner("linear_regression", ["--no-visdom", "--quiet", "--epochs", "20",
                                                        "--lr", lr, "--journal", str(path)]))
        paths.append(str(path))
    return paths, finals


def test_runs_named_by_what_differs_coloured_per_run_dashed_per_trace(lr_journals, visdom_server, viz):
    paths, finals = lr_journals
    drawn = compare(paths, port=visdom_server.port, env="cmp_lr")
    assert drawn >= 4
    params = traces(viz, "cmp_lr", "params")
    assert set(params) == {f"lr={lr} {t}" for lr in ("0.05", "0.02")
                           for t in ("weight", "bias", "weight target", "bias target")}
    # one colour per run, one dash per trace
    assert params["lr=0.05 weight"]["line"]["color"] == params["lr=0.05 bias"]["line"]["color"]
    assert params["lr=0.05 weight"]["line"]["color"] != params["lr=0.02 weight"]["line"]["color"]
    assert params["lr=0.05 weight"]["line"]["dash"] == params["lr=0.02 weight"]["line"]["dash"]
    assert params["lr=0.05 weight"]["line"]["dash"] != params["lr=0.05 bias"]["line"]["dash"]
    # every point of each run, and its last weight is the run's final figure
    for lr, final in zip(("0.05", "0.02"), finals):
        weight = params[f"lr={lr} weight"]
        assert weight["x"] == list(range(1, 21))
        assert weight["y"][-1] == pytest.approx(final["weight"])
    # the axis fits every run: no fixed range taken from one run
    layout = window(viz, "cmp_lr", "loss")["content"]["layout"]
    assert "range" not in layout["yaxis"] and "range" not in layout["xaxis"]
    table = window(viz, "cmp_lr", "runs")["content"]
    assert "lr=0.05" in table and "lr=0.02" in table
    assert "background:#fff3b0;font-weight:bold'><td>lr</td>" in table   # the difference is marked
    assert f"{finals[1]['weight']:.6g}" in table


def test_nan_gaps_and_last_image_of_each_run(tmp_path, visdom_server, viz):
    import torch

    paths = []
    for run, bad in enumerate([False, True]):
        path = str(tmp_path / f"run{run}.jsonl")
        with VisdomLogger(env="x", journal=path, send=False) as log:
            for step in range(10):
                log.scalar("loss", step, math.nan if bad and step in (3, 4) else 1.0 / (step + 1),
                           trace="train")
            log.images("samples", torch.zeros(2, 1, 8, 8), labels=[run, run])
            log.images("samples", torch.ones(2, 1, 8, 8), labels=[run, run], title=f"last of run {run}")
        paths.append(path)
    compare(paths, port=visdom_server.port, env="cmp_nan")
    loss = traces(viz, "cmp_nan", "loss")
    assert loss["run1"]["y"][3] is None and loss["run1"]["y"][4] is None
    assert loss["run0"]["y"][3] == pytest.approx(0.25)
    images = window(viz, "cmp_nan", "samples")   # collapsed: one pane, each run's last image captioned
    assert images["content"].count("<img src='data:image/png;base64,") == 2
    assert ">run0</figcaption>" in images["content"] and ">run1</figcaption>" in images["content"]


def test_follow_keeps_a_growing_run_live(tmp_path, visdom_server, viz):
    path = str(tmp_path / "live.jsonl")
    log = VisdomLogger(env="x", journal=path, send=False, interval=0.05)
    log.scalar("loss", 0, 1.0, trace="train")
    log.journal_offset()                     # the first point is on disk before compare starts
    stop = threading.Event()
    other = str(tmp_path / "done.jsonl")
    with VisdomLogger(env="x", journal=other, send=False) as done:
        done.scalar("loss", 0, 2.0, trace="train")
    follower = threading.Thread(target=compare, args=([path, other],),
                                kwargs=dict(port=visdom_server.port, env="cmp_follow", follow=True,
                                            interval=0.05, stop=stop))
    follower.start()
    try:
        for step in range(1, 50):
            log.scalar("loss", step, 1.0 / (step + 1), trace="train")
        log.journal_offset()
        deadline = time.monotonic() + 20
        xs = []
        while time.monotonic() < deadline:
            try:
                xs = traces(viz, "cmp_follow", "loss")["live"]["x"]
            except Exception:
                xs = []
            if len(xs) == 50:
                break
            time.sleep(0.05)
        assert xs == list(range(50))
    finally:
        stop.set()
        follower.join(10)
        log.close()


@pytest.mark.parametrize("content, says", [(None, "no such journal"), ("", "is empty"),
                                           ("hello\n", "not a vizlab journal"),
                                           ('{"a": 1}\n', "not a vizlab journal")])
def test_bad_journals_get_one_clear_line(tmp_path, capsys, content, says):
    path = tmp_path / "bad.jsonl"
    if content is not None:
        path.write_text(content)
    assert cli_main(["compare", str(path), str(path), "--port", "1"]) == 1
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1
    assert err.startswith("vizlab compare: ") and str(path) in err and says in err
