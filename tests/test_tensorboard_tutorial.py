"""PyTorch's TensorBoard tutorial (examples/tensorboard_tutorial.py, only the import changed) runs to
the end on the real MNIST files, and every window it makes is read back from a real server."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from support.windows import points, window

pytestmark = pytest.mark.server   # starts or needs a real Visdom server

SCRIPT = Path(__file__).resolve().parent.parent / "examples" / "tensorboard_tutorial.py"
CLASSES = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")


@pytest.mark.slow
def test_the_tutorial_runs_to_the_end_and_every_window_is_there(visdom_server, mnist_root, tmp_path):
    env = dict(os.environ, VISDOM_PORT=str(visdom_server.port), MPLBACKEND="Agg", OMP_NUM_THREADS="1")
    run = subprocess.run([sys.executable, str(SCRIPT), "--data", str(mnist_root), "--batches", "1000"],
                         cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    assert "Finished Training" in run.stdout
    port, name = visdom_server.port, "mnist_experiment_1"
    assert window(port, name, "four_mnist_images")["type"] == "image"
    graph = window(port, name, "graph")["content"]
    for text in ("Net", "conv1: Conv2d", "[4, 6, 24, 24]", "fc3: Linear", "[4, 10]", "44,426"):
        assert text in graph, text
    content = window(port, name, "embedding")["content"]
    embedding = content["data"]
    assert len(content["layout"]["images"]) == 100                      # each digit's image on its point
    assert sorted(t["name"] for t in embedding) == sorted(CLASSES)       # coloured by the digit names
    assert sum(len(t["x"]) for t in embedding) == 100
    loss = points(port, name, "training loss")["training loss"]
    assert sorted(loss) == [999] and 0 < loss[999] < 2.4   # below chance (ln 10) after 1000 steps
    figure = window(port, name, "predictions vs. actuals")
    assert figure["type"] == "image" and figure["title"] == "predictions vs. actuals (step 999)"
    for digit in CLASSES:   # each after a writer.close(): the writer reopened each time
        curve = window(port, name, digit)["content"]["data"][-1]
        assert len(curve["x"]) == 127 and curve["y"][0] == pytest.approx(0.1, abs=0.02)   # ~10% positives
    journal = tmp_path / "runs" / name / "vizlab.jsonl"
    starts = [r for r in map(json.loads, journal.read_text().splitlines()) if r["op"] == "start"]
    assert len(starts) == 1 + 1 + 1 + 9 and all(s.get("resume") for s in starts[1:])
