"""Seed bands and a compare that scales (issue 30): runs differing only in seed drawn as a mean
over a band, read back from a real server."""

import math
import random
import threading
import time

import pytest

from vizlab import VisdomLogger
from vizlab.cli import main as cli_main
from vizlab.cli.compare import compare
from vizlab.comparison import MAX_LABEL
from support.windows import page, traces, window

pytestmark = pytest.mark.server   # needs a real Visdom server

RUNS = [(0.1, 0), (0.1, 1), (0.1, 2), (0.01, 0), (0.01, 1)]   # five runs: three seeds, two lrs


def value(lr, seed, step):
    return random.Random(f"{lr}-{seed}-{step}").random() * lr + 1.0 / (step + 1)


def log_runs(folder, steps=20, env="sweep", runs=RUNS, **more):
    paths = []
    for lr, seed in runs:
        path = str(folder / f"{env}-lr{lr}-seed{seed}.jsonl")
        config = {"lr": lr, "seed": seed, "epochs": 3, **more}
        with VisdomLogger(env=env, journal=path, send=False, config=config) as log:
            for step in range(steps):
                log.scalars("loss", step, {"train": value(lr, seed, step), "val": 2 * value(lr, seed, step)})
        paths.append(path)
    return paths


def check_bands(shown, steps, kind="std"):
    for lr, seeds in ((0.1, (0, 1, 2)), (0.01, (0, 1))):
        for trace, k in (("train", 1), ("val", 2)):
            name = f"lr={lr} ({len(seeds)} seeds) {trace}"
            mean = shown[name]
            assert mean["x"] == list(range(steps))
            for i, x in enumerate(mean["x"]):
                values = [k * value(lr, s, x) for s in seeds]
                mu = sum(values) / len(values)
                sd = math.sqrt(sum((v - mu) ** 2 for v in values) / len(values))
                lo, hi = (mu - sd, mu + sd) if kind == "std" else (min(values), max(values))
                assert mean["y"][i] == pytest.approx(mu, abs=1e-9)
                assert shown[f"{name} (low)"]["y"][i] == pytest.approx(lo, abs=1e-9)
                assert shown[f"{name} (high)"]["y"][i] == pytest.approx(hi, abs=1e-9)
            assert shown[f"{name} (high)"]["fill"] == "tonexty"   # the band fills down to the low edge
            assert mean["line"]["color"] == shown[f"{name} (high)"]["line"]["color"]


def test_five_runs_over_three_seeds_and_two_lrs_are_two_groups(tmp_path, visdom_server, viz):
    paths = log_runs(tmp_path, steps=20)
    compare(paths, port=visdom_server.port, env="grp_std")
    shown = traces(viz, "grp_std", "loss")
    assert {n for n, t in shown.items() if t.get("showlegend", True)} == {
        f"lr={lr} ({n} seeds) {t}" for lr, n in ((0.1, 3), (0.01, 2)) for t in ("train", "val")}
    check_bands(shown, 20)
    assert list(page(viz, "grp_std"))[0] == "runs"   # the runs table first
    table = window(viz, "grp_std", "runs")["content"]
    assert table.count("seed=") + table.count(">seed<") >= 1 and "lr=0.01" in table


def test_minmax_bands(tmp_path, visdom_server, viz):
    assert cli_main(["compare", *log_runs(tmp_path, steps=8), "--band", "minmax", "--port",
                     str(visdom_server.port), "--env", "grp_minmax"]) == 0
    check_bands(traces(viz, "grp_minmax", "loss"), 8, "minmax")


def test_follow_updates_the_band_while_a_run_logs(tmp_path, visdom_server, viz):
    paths = log_runs(tmp_path, steps=10, runs=RUNS[:2])
    live_path = str(tmp_path / "live.jsonl")
    live = VisdomLogger(env="sweep", journal=live_path, send=False, interval=0.05,
                        config={"lr": 0.1, "seed": 2, "epochs": 3})
    for step in range(5):
        live.scalars("loss", step, {"train": value(0.1, 2, step), "val": 2 * value(0.1, 2, step)})
    live.journal_offset()
    stop = threading.Event()
    follower = threading.Thread(target=compare, args=(paths + [live_path],),
                                kwargs=dict(port=visdom_server.port, env="grp_follow", follow=True,
                                            interval=0.05, stop=stop))
    follower.start()
    try:
        name = "mean (3 seeds) train"   # one group: no setting differs between groups
        assert wait_for(lambda: traces(viz, "grp_follow", "loss")[name]["x"] == list(range(5)))
        for step in range(5, 10):
            live.scalars("loss", step, {"train": value(0.1, 2, step), "val": 2 * value(0.1, 2, step)})
        live.journal_offset()
        assert wait_for(lambda: traces(viz, "grp_follow", "loss")[name]["x"] == list(range(10)))
        mean = traces(viz, "grp_follow", "loss")[name]["y"]
        assert mean[9] == pytest.approx(sum(value(0.1, s, 9) for s in range(3)) / 3, abs=1e-9)
    finally:
        stop.set()
        follower.join(10)
        live.close()


def wait_for(predicate, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if predicate():
                return True
        except (KeyError, ValueError, Exception):
            pass
        time.sleep(0.05)
    return False


def test_runners_are_never_merged_names_are_short_colours_kept(tmp_path, visdom_server, viz):
    a = log_runs(tmp_path, steps=4, env="linear", runs=[(0.1, 0), (0.2, 0)])
    b = log_runs(tmp_path, steps=4, env="logistic", runs=[(0.3, 0), (0.4, 0)], refresh_every=50)
    compare(a + b, port=visdom_server.port, env="grp_runners", group_by=None)
    windows = set(page(viz, "grp_runners"))
    assert {"loss (linear)", "loss (logistic)"} <= windows and "loss" not in windows
    linear = traces(viz, "grp_runners", "loss (linear)")
    assert set(linear) == {"lr=0.1 train", "lr=0.1 val", "lr=0.2 train", "lr=0.2 val"}
    logistic = traces(viz, "grp_runners", "loss (logistic)")
    colours = {t["line"]["color"] for t in list(linear.values()) + list(logistic.values())}
    assert len(colours) == 4                     # a colour per run, across windows
    assert linear["lr=0.1 train"]["line"]["color"] == linear["lr=0.1 val"]["line"]["color"]


def test_long_names_are_cut_and_images_can_be_left_out(tmp_path, visdom_server, viz):
    import torch

    paths = []
    for i in range(2):
        paths.append(str(tmp_path / f"r{i}.jsonl"))
        config = {f"a_rather_long_setting_name_{k}": f"value-{i}-{'x' * 30}" for k in range(4)}
        with VisdomLogger(env="long", journal=paths[-1], send=False, config=config) as log:
            log.scalars("loss", 0, {"train_loss_per_activation": 1.0, "val": 2.0})
            log.images("samples", torch.rand(2, 1, 8, 8))
    compare(paths, port=visdom_server.port, env="grp_long", images=False)
    names = list(traces(viz, "grp_long", "loss"))
    assert len(names) == 4 and all(len(n) <= MAX_LABEL for n in names)
    assert "samples" not in page(viz, "grp_long")


def test_one_run_is_one_line_saying_two_are_needed(tmp_path, capsys):
    path = log_runs(tmp_path, steps=2, runs=RUNS[:1])[0]
    capsys.readouterr()
    assert cli_main(["compare", path, "--port", "1"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "compare needs two or more journals, got 1" in err
