"""transformers' own TensorBoardCallback with a vizlab SummaryWriter gives the windows VizlabCallback
gives (a tiny BERT from a config: no download), and its flush() per log never waits on the network."""

import os

import pytest

from support.windows import points, window
from vizlab import SummaryWriter
from vizlab.logger.sender import Sender
from vizlab.server.process import free_port

os.environ.setdefault("HF_HUB_OFFLINE", "1")   # before the import: nothing is downloaded
transformers = pytest.importorskip("transformers")
pytest.importorskip("tensorboard")             # TensorBoardCallback refuses to start without it
from transformers.integrations import TensorBoardCallback  # noqa: E402

from test_transformers import STEPS, train  # noqa: E402
from vizlab.integrations.transformers import VizlabCallback  # noqa: E402

pytestmark = pytest.mark.server   # starts or needs a real Visdom server

# The curves VizlabCallback draws: {window: traces}; both routes, in one run, must draw them alike.
CURVES = {"loss": {"train", "eval"}, "learning_rate": {"train"}, "grad_norm": {"train"}, "epoch": {"train"},
          "runtime": {"eval"}, "samples_per_second": {"eval"}, "steps_per_second": {"eval"}}


@pytest.mark.slow
def test_tensorboard_callback_route_gives_vizlab_callbacks_windows(visdom_server, tmp_path):
    port = visdom_server.port
    writer = SummaryWriter(log_dir=tmp_path / "hf_tb", port=port)
    callback = VizlabCallback(env="hf_viz", port=port, journal=str(tmp_path / "viz.jsonl"))
    state = train(tmp_path, TensorBoardCallback(tb_writer=writer), callback).state   # one run, both routes
    callback.close()
    assert writer.flush(timeout=10)     # TensorBoardCallback closed it at train end: reopens, delivers
    for win, traces in CURVES.items():
        tb, viz = points(port, "hf_tb", win), points(port, "hf_viz", win)
        assert tb.keys() == viz.keys() == traces, win
        for trace in traces:
            assert tb[trace] == viz[trace], (win, trace)          # the same steps and values
    history = {e["step"]: e["loss"] for e in state.log_history if "loss" in e}
    assert points(port, "hf_tb", "loss")["train"] == pytest.approx(history, rel=1e-6)
    # What only the TensorBoardCallback route has: its text panes and the end-of-run totals as windows
    assert "learning_rate" in window(port, "hf_tb", "args")["content"]
    assert "num_hidden_layers" in window(port, "hf_tb", "model_config")["content"]
    assert points(port, "hf_tb", "total_flos")["train"].keys() == {STEPS}
    assert "train_runtime" in window(port, "hf_viz", "summary")["content"]


@pytest.mark.slow
def test_flush_on_every_log_never_waits_for_a_server_that_is_down(tmp_path, monkeypatch):
    waits = []
    original = Sender.wait
    monkeypatch.setattr(Sender, "wait", lambda self, *a, **k: waits.append(a) or original(self, *a, **k))
    writer = SummaryWriter(log_dir=tmp_path / "hf_down", port=free_port())   # nobody listens there
    state = train(tmp_path, TensorBoardCallback(tb_writer=writer)).state
    assert state.global_step == STEPS
    assert len(waits) == 1          # only close() at train end waited (bounded), no flush() did
    lines = (tmp_path / "hf_down" / "vizlab.jsonl").read_text()
    assert lines.count('"win":"loss"') >= 1 and '"learning_rate"' in lines
