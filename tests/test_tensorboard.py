"""vizlab.SummaryWriter: a script written for torch.utils.tensorboard, only its import changed."""

import base64
import io
import math
import subprocess
import sys

import numpy as np
import pytest
import torch
from PIL import Image

from support.windows import points, window
from vizlab import SummaryWriter
from support.grids import render_grid
from vizlab.logger.render import PADDING
from vizlab.cli.replay import replay
from vizlab.server.process import free_port

pytestmark = pytest.mark.server   # starts or needs a real Visdom server

STEPS = 12
PHOTO = np.random.default_rng(0).integers(0, 255, (20, 30, 3), dtype=np.uint8)   # an HWC image


def tensorboard_script(writer):
    """What TensorBoard users write: '/' groups, add_scalars, images, text, histogram, figure, hparams."""
    import matplotlib.figure

    for step in range(STEPS):
        writer.add_scalar("Loss/train", 1.0 / (step + 1), step)
        writer.add_scalar("Loss/test", torch.tensor(2.0 / (step + 1)), step)
        writer.add_scalar("lr", np.float32(0.1 * 0.9 ** step))          # global_step=None: 0, 1, ...
        writer.add_scalars("Accuracy", {"train": step / STEPS, "val": step / (2 * STEPS)}, step)
        writer.add_histogram("weights", torch.randn(500) + step, step)
    writer.add_image("digit", torch.rand(1, 28, 28), 3)
    writer.add_image("photo", PHOTO, 3, dataformats="HWC")
    writer.add_images("batch", torch.rand(6, 3, 16, 16), 4)
    writer.add_text("notes", "first <b>note</b>", 0)
    writer.add_text("notes", "second note", 1)
    fig = matplotlib.figure.Figure(figsize=(3, 2), dpi=50)
    fig.add_subplot().plot([0, 1, 2], [2, 0, 1])
    writer.add_figure("curve", fig, 5)
    writer.add_hparams({"lr": 0.1, "batch_size": 64, "optimizer": "sgd"}, {"hparam/accuracy": 0.9})


EXPECTED = {
    "Loss": {"train": {s: 1.0 / (s + 1) for s in range(STEPS)}, "test": {s: 2.0 / (s + 1) for s in range(STEPS)}},
    "lr": {"lr": {s: float(np.float32(0.1 * 0.9 ** s)) for s in range(STEPS)}},
    "Accuracy": {"train": {s: s / STEPS for s in range(STEPS)}, "val": {s: s / (2 * STEPS) for s in range(STEPS)}},
}


def assert_scalars(port, env):
    for win, traces in EXPECTED.items():
        got = points(port, env, win)
        assert got.keys() == traces.keys(), win
        for trace, values in traces.items():
            assert got[trace].keys() == values.keys()
            assert all(math.isclose(got[trace][s], v, rel_tol=1e-6) for s, v in values.items()), (win, trace)


def decode_png(src):
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(src.split(",", 1)[1]))).convert("RGB"))


def test_tensorboard_script_builds_every_window(visdom_server, tmp_path):
    with SummaryWriter(log_dir=tmp_path / "tb_script", port=visdom_server.port) as writer:
        tensorboard_script(writer)
        assert writer.flush(timeout=10)
    port, env = visdom_server.port, "tb_script"               # env = log_dir's last part
    assert_scalars(port, env)
    assert window(port, env, "Loss")["title"] == "Loss"
    for win, title in [("digit", "digit (step 3)"), ("photo", "photo (step 3)"), ("batch", "batch (step 4)"),
                       ("curve", "curve (step 5)")]:
        data = window(port, env, win)
        assert data["type"] == "image" and data["title"] == title
        assert data["content"]["src"].startswith("data:image/png;base64,")
    photo = decode_png(window(port, env, "photo")["content"]["src"])
    assert np.array_equal(photo, render_grid(torch.from_numpy(PHOTO).permute(2, 0, 1)[None]))   # HWC read right
    curve = decode_png(window(port, env, "curve")["content"]["src"])
    assert curve.shape == (100 + 2 * PADDING, 150 + 2 * PADDING, 3)   # the 3x2 in figure at 50 dpi
    notes = window(port, env, "notes")["content"]
    assert notes.index("second note") < notes.index("first &lt;b&gt;note&lt;/b&gt;")   # newest first, escaped
    heatmap = window(port, env, "weights")["content"]
    assert heatmap["data"][0]["type"] == "heatmap" and heatmap["data"][0]["x"] == list(range(STEPS))
    column_totals = np.array(heatmap["data"][0]["z"]).sum(axis=0)
    assert np.allclose(column_totals, 500, atol=0.01)           # every value counted at every step
    hparams = window(port, env, "hparams")["content"]
    assert "batch_size" in hparams and "64" in hparams and "hparam/accuracy" in hparams
    assert (tmp_path / "tb_script" / "vizlab.jsonl").exists()  # the journal goes into log_dir


def test_same_scalars_as_torchs_writer(visdom_server, tmp_path):
    """The oracle: torch's own writer, read back with tensorboard's EventAccumulator."""
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    from torch.utils.tensorboard import SummaryWriter as TorchWriter

    with TorchWriter(log_dir=tmp_path / "torch_run") as writer:
        tensorboard_script(writer)
    events = EventAccumulator(str(tmp_path / "torch_run")).Reload()
    # add_scalars writes each trace as its own run folder: Accuracy_train, Accuracy_val
    torch_values = {tag: {e.step: e.value for e in events.Scalars(tag)} for tag in events.Tags()["scalars"]}
    # torch's writer files global_step=None under step 0; ours counts 0, 1, ... per tag: same values in order
    torch_values["lr"] = dict(enumerate(e.value for e in events.Scalars("lr")))
    for sub in ("train", "val"):
        run = EventAccumulator(str(tmp_path / "torch_run" / f"Accuracy_{sub}")).Reload()
        torch_values[f"Accuracy/{sub}"] = {e.step: e.value for e in run.Scalars("Accuracy")}

    with SummaryWriter(log_dir=tmp_path / "tb_oracle", port=visdom_server.port) as writer:
        tensorboard_script(writer)
        assert writer.flush(timeout=10)
    ours = {}
    for win in EXPECTED:
        for trace, values in points(visdom_server.port, "tb_oracle", win).items():
            ours[f"{win}/{trace}" if trace != win else win] = values
    assert ours.keys() == torch_values.keys()
    for tag, values in torch_values.items():        # TensorBoard stores float32
        assert ours[tag].keys() == values.keys(), tag
        assert all(math.isclose(ours[tag][s], v, rel_tol=1e-6) for s, v in values.items()), tag


def test_server_down_nothing_lost_and_replay_rebuilds(visdom_server, tmp_path):
    dead = free_port()
    with SummaryWriter(log_dir=tmp_path / "tb_down", port=dead) as writer:
        tensorboard_script(writer)
        assert not writer.flush(timeout=1)
    events, windows = replay(tmp_path / "tb_down" / "vizlab.jsonl", port=visdom_server.port)
    assert windows == 11   # the script's 10 and the status pane
    assert_scalars(visdom_server.port, "tb_down")


def test_purge_step_warns_that_points_stay(tmp_path):
    with pytest.warns(UserWarning, match="purge_step=5: Visdom windows cannot drop points"):
        SummaryWriter(log_dir=tmp_path / "tb_purge", purge_step=5, port=free_port()).close()


def test_defaults_from_environment_and_tensorboard_run_names(visdom_server, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("VISDOM_SERVER", "127.0.0.1")
    monkeypatch.setenv("VISDOM_PORT", str(visdom_server.port))
    with SummaryWriter(comment="_lr0.1") as writer:
        writer.add_scalar("loss", 1.0)
        writer.add_scalar("loss", 0.5)
        assert writer.flush(timeout=10)
    run = writer.get_logdir()
    assert run.startswith("runs/") and run.endswith("_lr0.1")          # runs/<Mon DD_HH-MM-SS>_<host>_lr0.1
    assert points(visdom_server.port, run[len("runs/"):], "loss") == {"loss": {0: 1.0, 1: 0.5}}


def test_bad_input_is_named(tmp_path):
    with SummaryWriter(log_dir=tmp_path / "tb_bad", port=free_port()) as writer:
        with pytest.raises(ValueError, match="dataformats='CHW' does not fit a tensor of shape"):
            writer.add_image("x", torch.rand(28, 28))
        with pytest.raises(ValueError, match="no finite values"):
            writer.add_histogram("h", [float("nan")])
        with pytest.raises(TypeError, match="tag_scalar_dict must be a non-empty dict"):
            writer.add_scalars("acc", [1, 2])


def test_import_vizlab_pulls_in_no_framework():
    code = ("import sys, vizlab; vizlab.__all__; "
            "print([m for m in ('torch', 'lightning', 'transformers', 'tensorboard', 'matplotlib') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr
