"""VizlabLogger in a real lightning.Trainer (tiny model, CPU), read back from a real server."""

import math

import pytest
import torch

from support.lightning_kit import csv_metrics, loaders
from support.windows import points, window
from vizlab.cli.replay import replay
from vizlab.server.process import free_port

lightning = pytest.importorskip("lightning")
from lightning.pytorch.loggers import CSVLogger  # noqa: E402

from vizlab.integrations.lightning import VizlabLogger  # noqa: E402

EPOCHS, BATCHES = 3, 8
# lightning 2.6.6 with torch 2.14 warns about its own use of torch's pytree; not ours to fix.
pytestmark = [pytest.mark.server, pytest.mark.filterwarnings("ignore:`isinstance\\(treespec, LeafSpec\\)` is deprecated")]


class TinyRegression(lightning.LightningModule):
    def __init__(self, lr=0.05, hidden=4, slash_names=False):
        super().__init__()
        self.save_hyperparameters()
        self.net = torch.nn.Sequential(torch.nn.Linear(3, hidden), torch.nn.Tanh(), torch.nn.Linear(hidden, 1))

    def _loss(self, batch):
        x, y = batch
        return torch.nn.functional.mse_loss(self.net(x), y)

    def training_step(self, batch, _):
        loss = self._loss(batch)
        self.log("train/loss" if self.hparams.slash_names else "train_loss", loss)
        return loss

    def validation_step(self, batch, _):
        self.log("val/loss" if self.hparams.slash_names else "val_loss", self._loss(batch))

    def test_step(self, batch, _):
        self.log("test/loss" if self.hparams.slash_names else "test_loss", self._loss(batch))

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=self.hparams.lr)


def fit(tmp_path, loggers, slash_names=False, every=2):
    torch.manual_seed(0)
    trainer = lightning.Trainer(max_epochs=EPOCHS, logger=loggers, log_every_n_steps=every, accelerator="cpu",
                                devices=1, default_root_dir=tmp_path, enable_checkpointing=False,
                                enable_progress_bar=False, enable_model_summary=False)
    trainer.fit(TinyRegression(slash_names=slash_names), *loaders(BATCHES))
    return trainer


def test_fit_then_test_logs_on_into_the_same_window(visdom_server, tmp_path):
    ours = VizlabLogger(env="lt_test", port=visdom_server.port, journal=str(tmp_path / "run.jsonl"))
    trainer = fit(tmp_path, ours)
    # finalize() ran after fit; the logger still logs
    result = trainer.test(trainer.lightning_module, dataloaders=loaders(BATCHES)[1], verbose=False)
    ours.close()
    loss = points(visdom_server.port, "lt_test", "loss")
    assert loss.keys() == {"train", "val", "test"}
    assert loss["test"] == {trainer.global_step: pytest.approx(result[0]["test_loss"], rel=1e-6)}
    status = window(visdom_server.port, "lt_test", "status")["content"]   # the Trainer's steps: the bar
    assert "data-state='finished'" in status and f"{EPOCHS * BATCHES}/{EPOCHS * BATCHES} [" in status


def assert_same(got, expected):
    assert got.keys() == expected.keys()
    assert all(math.isclose(got[s], v, rel_tol=1e-6) for s, v in expected.items())


def test_beside_csv_logger_train_and_val_share_the_loss_window(visdom_server, tmp_path):
    port = visdom_server.port
    ours = VizlabLogger(env="lt_two", port=port, journal=str(tmp_path / "run.jsonl"))
    csv_logger = CSVLogger(tmp_path / "csv")
    trainer = fit(tmp_path, [ours, csv_logger])
    assert ours.experiment.flush(timeout=10)
    expected = csv_metrics(csv_logger)
    loss = points(port, "lt_two", "loss")
    assert loss.keys() == {"train", "val"}
    assert_same(loss["train"], expected["train_loss"])
    assert_same(loss["val"], expected["val_loss"])
    assert len(loss["val"]) == EPOCHS
    # log_every_n_steps=2: every second step of the 24, at the steps Lightning passed
    assert sorted(loss["train"]) == [s for s in range(trainer.global_step) if (s + 1) % 2 == 0]
    assert points(port, "lt_two", "epoch")["epoch"].keys() == expected["epoch"].keys()
    settings = window(port, "lt_two", "settings")["content"]
    assert "lr" in settings and "0.05" in settings and "hidden" in settings
    assert window(port, "lt_two", "loss")["title"] == "loss"
    ours.close()


def test_alone_with_slash_names_and_log_every_n_steps(visdom_server, tmp_path):
    ours = VizlabLogger(env="lt_slash", port=visdom_server.port, journal=str(tmp_path / "run.jsonl"))
    trainer = fit(tmp_path, ours, slash_names=True, every=5)
    assert ours.experiment.flush(timeout=10)
    loss = points(visdom_server.port, "lt_slash", "loss")
    assert loss.keys() == {"train", "val"}
    assert sorted(loss["train"]) == [s for s in range(trainer.global_step) if (s + 1) % 5 == 0]
    ours.close()


def test_server_down_training_completes_and_replay_rebuilds(visdom_server, tmp_path):
    ours = VizlabLogger(env="lt_down", port=free_port(), journal=str(tmp_path / "down.jsonl"))
    csv_logger = CSVLogger(tmp_path / "csv")
    trainer = fit(tmp_path, [ours, csv_logger])
    assert trainer.state.finished and trainer.current_epoch == EPOCHS
    ours.close()
    replay(tmp_path / "down.jsonl", port=visdom_server.port)
    expected = csv_metrics(csv_logger)
    loss = points(visdom_server.port, "lt_down", "loss")
    assert_same(loss["train"], expected["train_loss"])
    assert_same(loss["val"], expected["val_loss"])
    assert "hidden" in window(visdom_server.port, "lt_down", "settings")["content"]


def test_metric_names_map_to_windows_and_traces():
    from vizlab.integrations.lightning import metric_window
    assert metric_window("train_loss") == ("loss", "train")
    assert metric_window("val/acc") == ("acc", "val")
    assert metric_window("train_loss_epoch") == ("loss", "train_epoch")   # beside val_loss
    assert metric_window("Loss/extra") == ("Loss", "extra")
    assert metric_window("epoch") == ("epoch", "epoch")
