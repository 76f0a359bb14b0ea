"""The calls Lightning users write for TensorBoardLogger and WandbLogger, against VizlabLogger in a
real Trainer (ModelCheckpoint and LearningRateMonitor on), read back from a real server."""

import glob
import math
import os

import numpy as np
import pytest
import torch

from support.lightning_kit import csv_metrics, loaders
from support.windows import points, window
from vizlab.settings_table import read_settings

lightning = pytest.importorskip("lightning")
from lightning.pytorch.callbacks import LearningRateMonitor, ModelCheckpoint  # noqa: E402
from lightning.pytorch.loggers import CSVLogger  # noqa: E402

from vizlab.integrations.lightning import VizlabLogger, metric_window  # noqa: E402

EPOCHS, BATCHES = 2, 4
pytestmark = [pytest.mark.server, pytest.mark.filterwarnings("ignore:`isinstance\\(treespec, LeafSpec\\)` is deprecated")]


class Styles(lightning.LightningModule):
    """Logs the way users of the other loggers do."""

    def __init__(self, lr=0.05):
        super().__init__()
        self.save_hyperparameters()
        self.net = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 1))
        self.example_input_array = torch.zeros(2, 3)    # -> log_graph's output shapes

    def forward(self, x):
        return self.net(x)

    def training_step(self, batch, _):
        x, y = batch
        loss = torch.nn.functional.mse_loss(self(x), y)
        self.log("train_loss", loss, on_step=True, on_epoch=True)
        return loss

    def validation_step(self, batch, _):
        x, y = batch
        self.log("val_loss", torch.nn.functional.mse_loss(self(x), y))

    def on_train_epoch_end(self):
        step, logger = self.global_step, self.logger
        # WandbLogger's calls
        logger.log_image("samples", [torch.rand(3, 8, 8), np.random.rand(6, 10, 3)], caption=["tensor", "array"])
        logger.log_text("notes", columns=["epoch", "note"], data=[[self.current_epoch, "a <b>note</b>"]])
        logger.log_table("table", columns=["a", "b"], data=[[1, 2], [3, 4]])
        # TensorBoardLogger's: self.logger.experiment is a SummaryWriter
        logger.experiment.add_image("weights_image", torch.rand(1, 8, 8), step)
        logger.experiment.add_images("batch", torch.rand(2, 3, 8, 8), step)
        logger.experiment.add_text("text", f"epoch {self.current_epoch}", step)
        logger.experiment.add_histogram("first_layer", self.net[0].weight, step)

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=self.hparams.lr)


def close_to(got, want):
    return got.keys() == want.keys() and all(math.isclose(got[s], v, rel_tol=1e-6) for s, v in want.items())


def test_every_style_in_a_real_trainer(visdom_server, tmp_path):
    port, env = visdom_server.port, "lt_styles"
    ours = VizlabLogger(env=env, port=port, save_dir=tmp_path / "logs")
    theirs = CSVLogger(tmp_path / "csv")
    torch.manual_seed(0)
    trainer = lightning.Trainer(max_epochs=EPOCHS, logger=[ours, theirs], log_every_n_steps=1, accelerator="cpu",
                                devices=1, default_root_dir=tmp_path, enable_progress_bar=False,
                                enable_model_summary=False,
                                callbacks=[ModelCheckpoint(monitor="val_loss"), LearningRateMonitor()])
    model = Styles()
    trainer.fit(model, *loaders(BATCHES))
    ours.log_hyperparams(model.hparams, {"hp/final_val_loss": 0.25})
    assert ours.experiment.flush(timeout=10)

    # files under the run, as with TensorBoardLogger
    assert ours.log_dir == os.path.join(str(tmp_path / "logs"), env, ours.version)
    assert trainer.log_dir == ours.save_dir
    assert glob.glob(os.path.join(ours.log_dir, "checkpoints", "*.ckpt"))
    assert os.path.isfile(os.path.join(ours.log_dir, "vizlab.jsonl"))

    # train_loss_step / train_loss_epoch beside val_loss, equal to CSVLogger's values
    expected = csv_metrics(theirs)
    loss = points(port, env, "loss")
    assert loss.keys() == {"train_step", "train_epoch", "val"}
    assert close_to(loss["train_step"], expected["train_loss_step"])
    assert close_to(loss["train_epoch"], expected["train_loss_epoch"])
    assert close_to(loss["val"], expected["val_loss"]) and len(loss["val"]) == EPOCHS
    assert points(port, env, "lr-SGD")["lr-SGD"].keys() == expected["lr-SGD"].keys()   # LearningRateMonitor

    last = trainer.global_step - 1
    samples = window(port, env, "samples")
    assert samples["type"] == "plot" and samples["title"] == f"samples (step {EPOCHS - 1})"   # a step per epoch:
    assert len(samples["content"]["layout"]["sliders"][0]["steps"]) == EPOCHS                 # the slider's
    notes = window(port, env, "notes")["content"]
    assert "<th" in notes and "a &lt;b&gt;note&lt;/b&gt;" in notes
    assert "<td style='padding-right:12px'>3</td>" in window(port, env, "table")["content"]
    assert window(port, env, "weights_image")["title"] == f"weights_image (step {last + 1})"
    assert window(port, env, "batch")["content"]["layout"]["sliders"][0]["active"] == EPOCHS - 1
    assert "epoch 1" in window(port, env, "text")["content"]
    assert window(port, env, "first_layer")["content"]["data"][0]["type"] == "heatmap"
    graph = window(port, env, "graph")["content"]            # log_graph, from example_input_array
    assert "Styles" in graph and "[2, 4]" in graph and "[2, 1]" in graph and "21 parameters" in graph
    settings = window(port, env, "settings")["content"]
    assert read_settings(settings) == {"lr": "0.05"}          # the metric is a result, not a setting
    assert "hp/final_val_loss" in settings and "0.25" in settings
    ours.close()


def test_step_and_epoch_suffixes_join_the_metric_window():
    assert metric_window("train_loss_step") == ("loss", "train_step")
    assert metric_window("train_loss_epoch") == ("loss", "train_epoch")
    assert metric_window("val_acc_epoch") == ("acc", "val_epoch")


def test_log_graph_whose_forward_fails_warns_and_shows_the_modules(visdom_server, tmp_path):
    ours = VizlabLogger(env="lt_graph", port=visdom_server.port, save_dir=tmp_path)
    model = Styles()
    with pytest.warns(UserWarning, match="log_graph: the forward pass on the example input failed"):
        ours.log_graph(model, torch.zeros(2, 5))              # the wrong width for Linear(3, 4)
    assert ours.experiment.flush(timeout=10)
    graph = window(visdom_server.port, "lt_graph", "graph")["content"]
    assert "Linear" in graph and "output shapes need input_to_model" in graph
    ours.close()
