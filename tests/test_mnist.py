"""The MNIST runner on the real MNIST files against a real Visdom server: windows, data, torchrun, replay."""

import json
import os
import shutil
import subprocess
import sys

import pytest
import torch
from test_runners import REPO, common_args, has_points, read_window, traces

from vizlab.runner_kit import data
from vizlab.runner_kit.models import MLP
from vizlab.runners import mnist_mlp
from vizlab.server.process import free_port

pytestmark = pytest.mark.server   # starts or needs a real Visdom server

METRIC_KEYS = {"test_accuracy", "test_loss", "epochs", "seconds_per_epoch", "samples_per_second", "device"}


def test_one_epoch_of_the_default_preset_reaches_95_percent(tmp_path, mnist_root, visdom_server, viz):
    env = "test_mnist_one_epoch"
    metrics = mnist_mlp.main(common_args(tmp_path, visdom_server.port, env)
                             + ["--data-dir", str(mnist_root), "--epochs", "1"])

    assert metrics["test_accuracy"] >= 0.95
    assert METRIC_KEYS <= set(metrics) and metrics["device"] == ("cuda" if torch.cuda.is_available() else "cpu") and metrics["epochs"] == 1
    assert metrics["samples_per_second"] == pytest.approx(60000 / metrics["seconds_per_epoch"])
    assert json.loads((tmp_path / "metrics.json").read_text()) == metrics

    # 300 steps, the train loss every 20: 15 points at fractional epochs; val once, at epoch 1.
    loss = traces(read_window(viz, env, "loss", lambda d: has_points("val")(d) and has_points("train", count=15)(d)))
    train, val = loss["train"], loss["val"]
    assert train["x"] == pytest.approx([20 * k / 300 for k in range(1, 16)])
    assert train["y"][-1] < train["y"][0] / 3
    assert val["x"] == [1] and val["y"][0] == pytest.approx(metrics["test_loss"], rel=1e-4)

    accuracy = read_window(viz, env, "accuracy", has_points("val"))
    assert traces(accuracy)["val"]["y"] == [pytest.approx(100 * metrics["test_accuracy"])]
    assert "%" in json.dumps(accuracy["content"]["layout"])  # the axis says the unit

    samples = read_window(viz, env, "samples")
    assert samples["type"] == "image" and samples["content"]["src"].startswith("data:image/")
    assert "epoch 1" in json.dumps(samples)
    assert traces(read_window(viz, env, "throughput", has_points("train")))["train"]["y"][0] > 0
    assert "<b>preset</b>" in read_window(viz, env, "hparams")["content"]


def test_lesson_preset_is_the_tutorial_network():
    torch.manual_seed(0)
    lesson = MLP(relu_on_logits=True, kaiming_init=True)
    assert (lesson(torch.randn(64, 1, 28, 28)) >= 0).all()  # ReLU also on the logits
    assert all((layer.bias == 0).all() for layer in lesson.net if isinstance(layer, torch.nn.Linear))
    assert (MLP()(torch.randn(64, 1, 28, 28)) < 0).any()   # the sound preset keeps negative logits
    assert mnist_mlp.PRESETS["lesson"]["lr"] == 0.01 and mnist_mlp.PRESETS["lesson"]["momentum"] == 0


def test_same_seed_same_result_and_lesson_preset_runs(tmp_path, mnist_root):
    args = ["--no-visdom", "--quiet", "--data-dir", str(mnist_root), "--subset", "2000", "--epochs", "1"]
    first = mnist_mlp.main(args + ["--journal", str(tmp_path / "a.jsonl")])
    second = mnist_mlp.main(args + ["--journal", str(tmp_path / "b.jsonl")])
    assert (first["test_loss"], first["test_accuracy"]) == (second["test_loss"], second["test_accuracy"])
    lesson = mnist_mlp.main(args + ["--preset", "lesson", "--journal", str(tmp_path / "c.jsonl")])
    assert lesson["preset"] == "lesson" and 0 <= lesson["test_accuracy"] <= 1


def test_no_visdom_journal_replays_into_the_same_windows(tmp_path, mnist_root, visdom_server, viz):
    args = ["--data-dir", str(mnist_root), "--subset", "6000", "--epochs", "2", "--quiet"]
    journal = tmp_path / "offline.jsonl"
    mnist_mlp.main(args + ["--no-visdom", "--journal", str(journal)])
    assert journal.stat().st_size > 0
    replayed = subprocess.run([sys.executable, "-m", "vizlab.cli", "replay", str(journal),
                               "--port", str(visdom_server.port), "--env", "test_mnist_replayed"],
                              capture_output=True, text=True, timeout=120)
    assert replayed.returncode == 0, replayed.stderr

    # The same run live (same seed, deterministic on CPU) must show the same figures.
    mnist_mlp.main(args + ["--env", "test_mnist_live", "--port", str(visdom_server.port),
                           "--journal", str(tmp_path / "live.jsonl")])
    for win, names in [("loss", ("train", "val")), ("accuracy", ("val",))]:
        live = traces(read_window(viz, "test_mnist_live", win, has_points(*names, count=2)))
        again = traces(read_window(viz, "test_mnist_replayed", win, has_points(*names, count=2)))
        for name in names:
            assert again[name]["x"] == pytest.approx(live[name]["x"])
            assert again[name]["y"] == pytest.approx(live[name]["y"], rel=1e-5)
    for win in ("samples", "hparams", "throughput"):
        read_window(viz, "test_mnist_replayed", win)


def test_torchrun_two_cpu_processes_give_one_set_of_windows(tmp_path, mnist_root, visdom_server, viz):
    env = "test_mnist_torchrun"
    done = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2", f"--master_port={free_port()}",
         str(REPO / "runners" / "mnist_mlp.py"), *common_args(tmp_path, visdom_server.port, env),
         "--data-dir", str(mnist_root), "--subset", "12000", "--epochs", "1", "--device", "cpu"],
        capture_output=True, text=True, timeout=300, env=dict(os.environ, OMP_NUM_THREADS="1"))
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.count("mnist_mlp: test accuracy") == 1  # only rank 0 speaks

    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["world_size"] == 2 and metrics["device"] == "cpu"
    assert 0.85 <= metrics["test_accuracy"] <= 1

    # 12000 images, 6000 per rank in batches of 100: 60 steps, the train loss every 20 -> 3 points,
    # and exactly 3: a second logging rank would have doubled them.
    loss = traces(read_window(viz, env, "loss", lambda d: has_points("train", count=3)(d) and has_points("val")(d)))
    assert loss["train"]["x"] == pytest.approx([1 / 3, 2 / 3, 1])
    assert loss["val"]["x"] == [1]
    accuracy = traces(read_window(viz, env, "accuracy", has_points("val")))["val"]
    assert accuracy["y"] == [pytest.approx(100 * metrics["test_accuracy"])]


def test_offline_and_missing_mnist_says_which_files_to_put_where(tmp_path):
    empty = tmp_path / "no-data"
    closed = f"http://127.0.0.1:{free_port()}"  # nothing listens: every download fails at once
    offline = dict(os.environ, HTTP_PROXY=closed, HTTPS_PROXY=closed, http_proxy=closed,
                   https_proxy=closed, NO_PROXY="", no_proxy="")
    done = subprocess.run([sys.executable, str(REPO / "runners" / "mnist_mlp.py"), "--no-visdom", "--quiet",
                           "--data-dir", str(empty), "--journal", str(tmp_path / "j.jsonl")],
                          capture_output=True, text=True, timeout=120, env=offline)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr and "Traceback" not in done.stdout
    for name in data.MNIST_FILES:
        assert name in done.stderr
    assert str(empty / "MNIST" / "raw") in done.stderr
    assert done.stderr.count("error:") == 1


def test_gz_files_in_a_read_only_folder_are_copied_to_a_writable_cache(tmp_path, mnist_root, monkeypatch):
    shared = tmp_path / "shared"
    shutil.copytree(mnist_root / "MNIST" / "raw", shared / "MNIST" / "raw",
                    ignore=lambda folder, names: [n for n in names if not n.endswith(".gz")])
    os.chmod(shared / "MNIST" / "raw", 0o555)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    before = sorted(os.listdir(shared / "MNIST" / "raw"))
    try:
        assert data.mnist_root(shared) == str(tmp_path / "cache" / "vizlab" / "data")
        train_x, train_y, test_x, test_y = data.load_mnist(shared)
    finally:
        os.chmod(shared / "MNIST" / "raw", 0o755)
    assert sorted(os.listdir(shared / "MNIST" / "raw")) == before  # nothing written next to the shared files
    assert train_x.shape == (60000, 1, 28, 28) and test_y.shape == (10000,)
    # Normalized with the training set's own statistics: mean ~0, std ~1.
    assert abs(train_x.mean().item()) < 1e-3 and train_x.std().item() == pytest.approx(1, abs=1e-3)
