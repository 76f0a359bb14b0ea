"""The README's first example, examples/own_loop.py, run for real (real MNIST, a real server):
its page has what the README says, read back from the server."""

import subprocess
import sys
from pathlib import Path

import pytest

from support.windows import window
from vizlab.settings_table import read_settings
from vizlab.smoothing import SUFFIX

pytestmark = [pytest.mark.server, pytest.mark.slow]
EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "own_loop.py"


def test_the_readme_loop_shows_status_smoothed_loss_epoch_metric_samples_and_settings(
        visdom_server, mnist_root, tmp_path):
    port, env = visdom_server.port, "own_loop_test"
    done = subprocess.run([sys.executable, str(EXAMPLE), "--epochs", "1", "--subset", "6400",
                           "--data-dir", str(mnist_root), "--env", env, "--port", str(port),
                           "--journal", str(tmp_path / "run.jsonl")],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert "epoch 1: test accuracy" in done.stdout

    status = window(port, env, "status")["content"]
    assert "finished" in status and "100/100" in status          # total_steps = 6400 / 64 steps

    loss = {t["name"]: t for t in window(port, env, "loss")["content"]["data"]}
    assert set(loss) == {"train", "train" + SUFFIX} and len(loss["train"]["x"]) == 100

    accuracy = window(port, env, "accuracy")["content"]
    (trace,) = accuracy["data"]
    assert trace["x"] == [1] and "markers" in trace["mode"]          # one point, visible
    assert accuracy["layout"]["xaxis"]["title"] == "epoch" and trace["y"][0] > 50

    assert window(port, env, "samples")["content"]["src"].startswith("data:image/png")
    settings = read_settings(window(port, env, "settings")["content"])
    assert settings == {"epochs": "1", "lr": "0.1", "batch_size": "64", "subset": "6400"}
