"""vizlab.SummaryWriter as a drop-in for torch's: every add_* method (same signature, a pane read
back from a real server), torch's close()/flush() semantics, tags that never collide silently."""

import base64
import inspect
import io
import json
import math
import wave

import numpy as np
import pytest
import torch
from PIL import Image
from torch.utils.tensorboard import SummaryWriter as TorchWriter

from support.windows import points, window
from vizlab import SummaryWriter
from vizlab.integrations.naming import tag_window
from vizlab.cli.replay import replay
from vizlab.logger.sender import Sender
from vizlab.server.process import free_port
from vizlab.settings_table import read_settings

pytestmark = pytest.mark.server   # starts or needs a real Visdom server

ADD_METHODS = sorted(n for n in dir(TorchWriter) if n.startswith("add_") and callable(getattr(TorchWriter, n)))


def test_every_add_method_of_torchs_writer_has_its_signature():
    assert len(ADD_METHODS) >= 20, ADD_METHODS
    for name in ADD_METHODS + ["flush", "close", "get_logdir"]:
        theirs = inspect.signature(getattr(TorchWriter, name)).parameters
        ours = inspect.signature(getattr(SummaryWriter, name)).parameters
        if name == "flush":   # vizlab's extra: flush(timeout=s) also waits for delivery
            ours = {k: v for k, v in ours.items() if k != "timeout"}
        assert [(p.name, p.default, p.kind) for p in ours.values()] == \
               [(p.name, p.default, p.kind) for p in theirs.values()], name
    init_theirs = list(inspect.signature(TorchWriter.__init__).parameters.values())
    init_ours = list(inspect.signature(SummaryWriter.__init__).parameters.values())[:len(init_theirs)]
    assert [(p.name, p.default) for p in init_ours] == [(p.name, p.default) for p in init_theirs]


class Net(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.features = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 5), torch.nn.ReLU(), torch.nn.MaxPool2d(2))
        self.head = torch.nn.Linear(4 * 12 * 12, 10)

    def forward(self, x):
        return self.head(self.features(x).flatten(1))


def call_every_method(writer, tmp_path):
    """Each add_* method of torch's writer, with the arguments its docs show."""
    g = torch.Generator().manual_seed(0)
    for step in range(3):
        writer.add_scalar("Loss/train", 1.0 / (step + 1), step)
        writer.add_scalars("Accuracy", {"train": 0.5 + step / 10, "val": 0.4 + step / 10}, step)
        writer.add_histogram("weights", torch.randn(200, generator=g) + step, step)
        writer.add_pr_curve("pr", torch.randint(0, 2, (100,), generator=g), torch.rand(100, generator=g), step)
    writer.add_image("digit", torch.rand(1, 28, 28, generator=g), 0)
    writer.add_images("batch", torch.rand(4, 3, 8, 8, generator=g), 0)
    import matplotlib.figure
    fig = matplotlib.figure.Figure(figsize=(2, 2), dpi=40)
    fig.add_subplot().plot([0, 1], [1, 0])
    writer.add_figure("curve", fig, 0)
    writer.add_text("notes", "hello <b>world</b>", 0)
    writer.add_graph(Net(), torch.rand(2, 1, 28, 28))
    writer.add_embedding(torch.cat([torch.randn(20, 6, generator=g), torch.randn(20, 6, generator=g) + 5]),
                         metadata=["cat"] * 20 + ["dog"] * 20, label_img=torch.rand(40, 1, 4, 4))
    writer.add_pr_curve_raw("pr_raw", [5, 3, 0], [5, 1, 0], [0, 4, 5], [0, 2, 5],
                            [0.5, 0.75, 1.0], [1.0, 0.6, 0.0], 0, num_thresholds=3)
    t = torch.linspace(0, 1, 8000)
    writer.add_audio("tone", torch.sin(2 * math.pi * 440 * t)[None], 0, sample_rate=8000)
    writer.add_video("clip", torch.rand(2, 5, 3, 16, 16, generator=g), 0, fps=5)
    vertices = torch.tensor([[[0., 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1]]])
    writer.add_mesh("tetra", vertices, colors=torch.full((1, 4, 3), 200, dtype=torch.uint8),
                    faces=torch.tensor([[[0, 1, 2], [0, 1, 3], [0, 2, 3], [1, 2, 3]]]))
    writer.add_image_with_boxes("boxes", torch.zeros(3, 40, 60), torch.tensor([[5, 5, 30, 25]]), 0,
                                labels=["cat"])
    writer.add_custom_scalars({"Training": {"loss and acc": ["Multiline", ["m/loss", "m/acc"]],
                                            "loss band": ["Margin", ["m/loss", "m/low", "m/high"]]}})
    writer.add_custom_scalars_multilinechart(["m/acc"], category="more", title="acc only")
    writer.add_custom_scalars_marginchart(["m/acc", "m/low", "m/high"], category="more", title="acc band")
    for step in range(4):
        for tag, value in [("m/loss", 1 - step / 8), ("m/acc", step / 4), ("m/low", 0.1), ("m/high", 0.9)]:
            writer.add_scalar(tag, value, step)
    writer.add_histogram_raw("raw_hist", min=0.0, max=3.0, num=6, sum=9.0, sum_squares=17.0,
                             bucket_limits=[1.0, 2.0, 3.0], bucket_counts=[1, 2, 3], global_step=0)
    writer.add_tensor("t", torch.arange(6.0).reshape(2, 3), 0)
    writer.add_hparams({"lr": 0.1, "batch_size": 32}, {"hparam/accuracy": 0.97})
    import importlib.util
    if importlib.util.find_spec("onnx") is None:   # else the structure pane, shown by onnx's own file
        with pytest.raises(ImportError, match="add_onnx_graph needs the 'onnx' package"):
            writer.add_onnx_graph(tmp_path / "model.onnx")


def decode(src):
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(src.split(",", 1)[1]))).convert("RGB"))


def test_every_add_method_shows_its_pane(visdom_server, tmp_path):
    port, env = visdom_server.port, "tb_every"
    with SummaryWriter(log_dir=tmp_path / env, port=port) as writer:
        call_every_method(writer, tmp_path)
        assert writer.flush(timeout=10)
    get = lambda win: window(port, env, win)   # noqa: E731
    assert points(port, env, "Loss") == {"train": {0: 1.0, 1: 0.5, 2: pytest.approx(1 / 3)}}
    assert points(port, env, "Accuracy").keys() == {"train", "val"}
    for win in ("digit", "batch", "curve", "boxes"):
        assert get(win)["type"] == "image"
    boxes = decode(get("boxes")["content"]["src"])
    assert (boxes[..., 0] > 200).sum() > 100 and (boxes[..., 1] < 50).sum() > 100   # red box drawn
    assert "world" in get("notes")["content"]
    graph = get("graph")["content"]
    for text in ("Net", "Conv2d", "[2, 4, 24, 24]", "[2, 10]", "5,874", "5,770", "head: Linear"):
        assert text in graph, text
    emb = get("embedding")["content"]
    assert [t["name"] for t in emb["data"]] == ["cat", "dog"] and len(emb["data"][0]["x"]) == 20
    assert abs(np.mean(emb["data"][0]["x"]) - np.mean(emb["data"][1]["x"])) > 5   # the clusters apart on PC1
    assert len(emb["layout"]["images"]) == 40 and emb["layout"]["images"][0]["source"].startswith("data:image/png")
    pr = get("pr")["content"]
    assert [t["name"] for t in pr["data"]] == ["step 0", "step 1", "step 2"]
    assert pr["data"][-1]["line"]["width"] == 3 and len(pr["data"][-1]["x"]) == 127
    assert get("pr_raw")["content"]["data"][0]["y"] == [0.5, 0.75, 1.0]
    audio = get("tone")["content"]
    src = audio[audio.index("data:audio/wav"):].split("'")[0]
    with wave.open(io.BytesIO(base64.b64decode(src.split(",", 1)[1]))) as wav:
        assert (wav.getframerate(), wav.getnframes(), wav.getnchannels()) == (8000, 8000, 1)
    clip = get("clip")["content"]
    gif = Image.open(io.BytesIO(base64.b64decode(clip[clip.index("data:image/gif"):].split("'")[0].split(",", 1)[1])))
    assert gif.n_frames == 5 and gif.size == (32, 16)
    mesh = get("tetra")["content"]["data"][0]
    assert mesh["type"] == "mesh3d" and mesh["i"] == [0, 0, 0, 1] and len(mesh["x"]) == 4
    assert points(port, env, "loss and acc") == {"m/loss": {0: 1.0, 1: 0.875, 2: 0.75, 3: 0.625},
                                                 "m/acc": {0: 0.0, 1: 0.25, 2: 0.5, 3: 0.75}}
    band = get("loss band")["content"]["data"]
    assert band[1]["fill"] == "tonexty" and band[0]["y"] == [0.1] * 4 and band[2]["y"] == [1.0, 0.875, 0.75, 0.625]
    assert points(port, env, "acc only") == {"m/acc": {0: 0.0, 1: 0.25, 2: 0.5, 3: 0.75}}
    assert get("acc band")["content"]["data"][2]["y"] == [0.0, 0.25, 0.5, 0.75]
    raw = get("raw_hist")["content"]["data"][0]
    assert raw["type"] == "heatmap" and np.isclose(np.array(raw["z"]).sum(), 6)
    assert "[[0. 1. 2.]" in get("t")["content"] and "shape (2, 3)" in get("t")["content"]
    hparams = get("hparams")["content"]
    assert read_settings(hparams) == {"lr": "0.1", "batch_size": "32"}   # what vizlab compare reads
    assert "hparam/accuracy" in hparams and "0.97" in hparams and "results" in hparams


def test_logging_after_close_reopens_and_continues_the_windows(visdom_server, tmp_path):
    port, env = visdom_server.port, "tb_reopen"
    writer = SummaryWriter(log_dir=tmp_path / env, port=port)
    writer.add_image("digit", torch.rand(1, 8, 8), 0)
    for step in range(5):
        writer.add_scalar("loss", 1.0 / (step + 1), step)
    writer.close()
    for step in range(5, 10):   # torch's writer reopens: so does this one
        writer.add_scalar("loss", 1.0 / (step + 1), step)
    writer.add_text("after", "logged after close()", 0)
    assert writer.flush(timeout=10)
    writer.close()
    want = {s: pytest.approx(1.0 / (s + 1)) for s in range(10)}
    assert points(port, env, "loss") == {"loss": want}
    assert window(port, env, "digit")["type"] == "image"       # the earlier windows are still there
    assert "after close" in window(port, env, "after")["content"]
    journal = tmp_path / env / "vizlab.jsonl"
    starts = [r for r in map(json.loads, journal.read_text().splitlines()) if r["op"] == "start"]
    assert len(starts) == 2 and starts[1].get("resume")        # one journal, continued
    replay(journal, port=port, env="tb_reopen_replayed")
    assert points(port, "tb_reopen_replayed", "loss") == {"loss": want}


def test_flush_makes_the_journal_durable_and_never_waits_on_the_network(tmp_path, monkeypatch):
    waits = []
    original = Sender.wait
    monkeypatch.setattr(Sender, "wait", lambda self, *a, **k: waits.append(a) or original(self, *a, **k))
    writer = SummaryWriter(log_dir=tmp_path / "tb_flush", port=free_port())   # nobody listens there
    journal = tmp_path / "tb_flush" / "vizlab.jsonl"
    for step in range(30):
        writer.add_scalar("loss", float(step), step)
        assert writer.flush() is None                 # torch's flush returns None
        last = json.loads(journal.read_text().splitlines()[-1])
        assert last["op"] == "scalars" and last["x"] == step   # on disk when flush() returns
    assert waits == []                                # the sender was never waited on
    writer.close()
    assert waits                                      # close() keeps its bounded wait


def test_one_tag_used_for_two_kinds_gets_two_windows(visdom_server, tmp_path):
    port, env = visdom_server.port, "tb_kinds"
    with SummaryWriter(log_dir=tmp_path / env, port=port) as writer:
        writer.add_images("batch", torch.rand(2, 1, 8, 8), 0)
        writer.add_text("batch", "a note about the batch", 0)
        writer.add_scalar("batch", 3.0, 0)
        writer.add_image("a/b", torch.rand(1, 8, 8), 0)
        writer.add_image("a_b", torch.rand(1, 8, 8), 0)      # the same window name, another tag
        writer.add_scalar("Loss/train", 1.0, 0)
        writer.add_scalar("train/Loss", 2.0, 0)             # the same window and trace, another tag
        assert writer.flush(timeout=10)
    assert window(port, env, "batch")["type"] == "image"
    text = window(port, env, "batch_text")
    assert text["type"] == "text" and text["title"] == "batch (text)" and "a note" in text["content"]
    assert points(port, env, "batch_scalars") == {"batch": {0: 3.0}}
    assert window(port, env, "batch_scalars")["title"] == "batch (scalars)"
    assert window(port, env, "a_b")["title"] == "a/b (step 0)"
    assert window(port, env, "a_b_image")["title"] == "a_b (image) (step 0)"
    assert points(port, env, "Loss") == {"train": {0: 1.0}, "train/Loss": {0: 2.0}}


def test_naming_rule_reads_well_for_both_conventions():
    assert [tag_window(t) for t in ("Loss/train", "Loss/test")] == [("Loss", "train"), ("Loss", "test")]
    assert [tag_window(t) for t in ("train/loss", "eval/loss")] == [("loss", "train"), ("loss", "eval")]
    # transformers' TensorBoardCallback: metrics with different meanings get windows of their own
    tags = ["train/loss", "train/learning_rate", "train/grad_norm", "train/total_flos", "eval/loss"]
    assert {tag_window(t)[0] for t in tags} == {"loss", "learning_rate", "grad_norm", "total_flos"}
    assert tag_window("training loss") == ("training loss", "training loss")   # torch's tutorial
    assert tag_window("Accuracy/train/top1") == ("Accuracy", "train/top1")


def test_scalars_equal_torchs_event_file(visdom_server, tmp_path):
    """The oracle: the same calls to torch's writer, read back with tensorboard's EventAccumulator."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    calls = [(tag, step, 1.0 / (step + 1) + k) for step in range(6)
             for k, tag in enumerate(["train/loss", "eval/loss", "Loss/train", "Loss/test", "lr"])]
    with TorchWriter(log_dir=tmp_path / "torch") as theirs, \
            SummaryWriter(log_dir=tmp_path / "tb_oracle2", port=visdom_server.port) as ours:
        for tag, step, value in calls:
            theirs.add_scalar(tag, value, step)
            ours.add_scalar(tag, value, step)
        theirs.close()   # then logs on: reopens, as torch's does
        ours.close()
        for writer in (theirs, ours):
            writer.add_scalar("after_close", 7.0, 1)
        assert ours.flush(timeout=10)
    events = EventAccumulator(str(tmp_path / "torch")).Reload()
    expected = {tag: {e.step: e.value for e in events.Scalars(tag)} for tag in events.Tags()["scalars"]}
    got = {}
    for tag in expected:
        win, trace = tag_window(tag)
        got[tag] = points(visdom_server.port, "tb_oracle2", win)[trace]
    assert got.keys() == expected.keys() and "after_close" in got
    for tag, values in expected.items():
        assert got[tag] == pytest.approx(values, rel=1e-6), tag
