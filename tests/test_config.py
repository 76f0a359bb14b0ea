"""VisdomLogger(config=...): the run's settings, one journal record and a settings pane, read back
from a real server; `vizlab compare` names runs by the settings that differ."""

import argparse
import dataclasses
import enum
import pathlib

import numpy as np
import pytest
import torch

from vizlab import VisdomLogger, journal as journal_mod
from vizlab.cli.compare import compare, name_runs
from vizlab.cli.replay import replay
from vizlab.run_settings import MAX_SETTINGS
from vizlab.settings_table import MAX_HEIGHT, read_settings
from vizlab.integrations.tensorboard import SummaryWriter
from support.windows import window


def settings_records(path):
    return [r for r in journal_mod.read(path) if r["op"] == "settings"]


class Optim(enum.Enum):
    ADAM = 1


@dataclasses.dataclass
class Config:
    lr: float = 0.01
    batch_size: int = 64
    optimizer: str = "adam"


def test_settings_pane_reads_back_with_numpy_tensor_and_nested_values(visdom_server, viz, tmp_path):
    path = str(tmp_path / "run.jsonl")
    config = {"lr": np.float32(0.01), "batch_size": np.int64(64), "dropout": torch.tensor(0.5),
              "clip": torch.tensor(1.5, dtype=torch.bfloat16), "data": pathlib.Path("/data/mnist"), "optim": Optim.ADAM, "nan": float("nan"),
              "model": {"hidden": 128, "layers": [64, 32]}, "device": torch.device("cpu")}
    with VisdomLogger(env="cfg_pane", port=visdom_server.port, journal=path, config=config) as log:
        log.scalar("loss", 0, 1.0)
        assert log.flush()
        pane = window(viz, "cfg_pane", "settings")
    assert pane["type"] == "text" and pane["title"] == "settings"
    assert read_settings(pane["content"]) == {
        "lr": "0.01", "batch_size": "64", "dropout": "0.5", "clip": "1.5", "data": "/data/mnist", "optim": "ADAM",
        "nan": "nan", "device": "cpu", "hidden": "128", "layers": "[64, 32]"}
    assert "<h4>model</h4>" in pane["content"]          # a nested dict is a section of the pane
    [record] = settings_records(path)                      # once, plain JSON values
    assert record["values"] == {"lr": 0.01, "batch_size": 64, "dropout": 0.5, "clip": 1.5, "data": "/data/mnist",
                                "optim": "ADAM", "nan": "nan", "model.hidden": 128,
                                "model.layers": "[64, 32]", "device": "cpu"}
    # the settings pane comes first on the page, and replay draws it the same
    replay(path, port=visdom_server.port, env="cfg_pane_replayed")
    assert window(viz, "cfg_pane_replayed", "settings")["content"] == pane["content"]


@pytest.mark.parametrize("config", [argparse.Namespace(lr=0.01, batch_size=64, optimizer="adam"), Config()],
                         ids=["Namespace", "dataclass"])
def test_namespace_and_dataclass_give_the_dicts_settings(visdom_server, viz, config):
    env = f"cfg_{type(config).__name__}"
    with VisdomLogger(env=env, port=visdom_server.port, journal=False, config=config) as log:
        assert log.flush()
        content = window(viz, env, "settings")["content"]
    assert read_settings(content) == {"lr": "0.01", "batch_size": "64", "optimizer": "adam"}


@pytest.mark.parametrize("config", [[("lr", 0.1)], "lr=0.1", 0.1, Config])
def test_other_configs_are_refused_saying_what_to_pass(config, tmp_path):
    with pytest.raises(TypeError, match="config= takes a dict, an argparse Namespace or a dataclass instance"):
        VisdomLogger(journal=str(tmp_path / "run.jsonl"), send=False, config=config)
    assert not (tmp_path / "run.jsonl").exists()           # refused before anything opened


def test_compare_names_runs_by_the_differing_setting_only(visdom_server, viz, tmp_path):
    paths = []
    for lr in (0.01, 0.1):
        paths.append(str(tmp_path / f"mycnn-{lr}.jsonl"))
        with VisdomLogger(env="mycnn", journal=paths[-1], send=False,
                          config=Config(lr=lr, batch_size=np.int64(64))) as log:
            for step in range(5):
                log.scalar("loss", step, lr * step, trace="train")
    compare(paths, port=visdom_server.port, env="cfg_cmp")
    names = [t["name"] for t in window(viz, "cfg_cmp", "loss")["content"]["data"]]
    assert names == ["lr=0.01", "lr=0.1"]                  # batch_size and optimizer: the same
    table = window(viz, "cfg_cmp", "runs")["content"]
    assert "background:#fff3b0;font-weight:bold'><td>lr</td>" in table and "<td>batch_size</td>" in table


def test_names_stay_short_when_many_settings_differ_and_fall_back_without_settings(tmp_path):
    configs = [{"optim.lr": i, "seed": 0, **{f"s{k}": i * k for k in range(1, 10)}} for i in (1, 2)]
    runs = []
    for i, config in enumerate(configs + [None]):
        path = str(tmp_path / f"run{i}.jsonl")
        with VisdomLogger(env="x", journal=path, send=False, config=config) as log:
            log.scalar("loss", 0, 1.0)
        runs.append(compare_run(path))
    # 10 differ (seed does not): the first three by their short key, then how many more
    assert name_runs(runs[:2])[0] == ["lr=1, s1=1, s2=2, +7 more", "lr=2, s1=2, s2=4, +7 more"]
    assert name_runs(runs)[0][2] == "run2"                   # no settings: the journal's name
    assert name_runs([runs[0], runs[0]])[0] == ["run0 (run0) #1", "run0 (run0) #2"]   # none differ: numbered


def compare_run(path):
    from vizlab.cli.compare import Run
    run = Run(path)
    run.read_new()
    return run


def test_a_resumed_run_records_its_settings_once(tmp_path):
    path = str(tmp_path / "run.jsonl")
    config = {"lr": 0.1, "epochs": 2}
    with VisdomLogger(env="x", journal=path, send=False, config=config) as log:
        log.scalar("loss", 0, 1.0)
        offset = log.journal_offset()
    with VisdomLogger(env="x", journal=path, send=False, resume_from=offset, config=config) as log:
        log.scalar("loss", 1, 0.5)
    assert len(settings_records(path)) == 1
    with VisdomLogger(env="x", journal=path, send=False, resume_from=offset,
                      config=dict(config, epochs=4)) as log:   # more epochs: new settings
        log.scalar("loss", 1, 0.5)
    assert [r["values"]["epochs"] for r in settings_records(path)] == [2, 4]


def test_a_huge_config_is_bounded(visdom_server, viz):
    config = {f"key{i}": "v" * 1000 for i in range(5000)}
    with VisdomLogger(env="cfg_huge", port=visdom_server.port, journal=False, config=config) as log:
        assert log.flush()
        pane = window(viz, "cfg_huge", "settings")
    assert len(read_settings(pane["content"])) == MAX_SETTINGS
    assert f"and {5000 - MAX_SETTINGS} more settings" in pane["content"]
    assert len(pane["content"]) < 100_000 and pane["height"] <= MAX_HEIGHT


def test_add_hparams_takes_the_same_path_so_compare_names_its_runs(visdom_server, viz, tmp_path):
    paths = []
    for lr in (0.01, 0.1):
        writer = SummaryWriter(log_dir=tmp_path / f"tb{lr}", send=False)
        writer.add_scalar("Loss/train", 1.0, 0)
        writer.add_hparams({"lr": lr, "batch_size": 32}, {"hparam/accuracy": torch.tensor(0.9)})
        writer.close()
        paths.append(str(tmp_path / f"tb{lr}" / "vizlab.jsonl"))
    [record] = settings_records(paths[0])
    assert record["win"] == "hparams" and record["results"] == {"hparam/accuracy": pytest.approx(0.9)}
    compare(paths, port=visdom_server.port, env="cfg_tb")
    assert [t["name"] for t in window(viz, "cfg_tb", "Loss")["content"]["data"]] == ["lr=0.01", "lr=0.1"]


def test_runner_settings_are_settings_records(tmp_path):
    from vizlab.cli.run import run_runner
    path = str(tmp_path / "lin.jsonl")
    run_runner("linear_regression", ["--no-visdom", "--quiet", "--epochs", "2", "--lr", "0.05",
                                     "--journal", path])
    [record] = settings_records(path)
    assert record["win"] == "hparams" and record["values"]["lr"] == 0.05 and record["values"]["device"] == "cpu"


def test_journals_from_before_settings_records_are_named_by_the_runners_table(tmp_path):
    from vizlab.settings_table import settings_html
    paths = []
    for lr in (0.05, 0.02):
        paths.append(str(tmp_path / f"old{lr}.jsonl"))
        with VisdomLogger(env="x", journal=paths[-1], send=False) as log:
            log.scalar("loss", 0, 1.0)
            log.text("hparams", settings_html({None: {"lr": lr, "epochs": 20}}), title="settings")
    assert name_runs([compare_run(p) for p in paths])[0] == ["lr=0.05", "lr=0.02"]


def test_the_example_loop_shows_its_settings(visdom_server, viz, tmp_path):
    import subprocess
    import sys
    example = pathlib.Path(__file__).resolve().parent.parent / "examples" / "settings_compare.py"
    subprocess.run([sys.executable, str(example), "--epochs", "1", "--lr", "0.2", "--env", "cfg_example",
                    "--port", str(visdom_server.port), "--journal", str(tmp_path / "run.jsonl")],
                   check=True, capture_output=True, timeout=300)
    assert read_settings(window(viz, "cfg_example", "settings")["content"]) == {
        "lr": "0.2", "batch_size": "64", "epochs": "1", "hidden": "32", "seed": "0"}


def test_lightning_log_hyperparams_adds_to_one_settings_record(tmp_path):
    from vizlab.integrations.lightning import VizlabLogger
    path = str(tmp_path / "run.jsonl")
    ours = VizlabLogger(env="x", journal=path, save_dir=tmp_path, send=False)
    ours.log_hyperparams(argparse.Namespace(lr=np.float64(0.05), model={"hidden": 8}))
    ours.log_hyperparams({"batch_size": 32}, {"hp/val_loss": torch.tensor(0.25)})
    ours.log_hyperparams({"batch_size": 32}, {"hp/val_loss": torch.tensor(0.25)})   # the same: not again
    ours.close()
    records = settings_records(path)
    assert len(records) == 2 and records[-1]["win"] == "settings"
    assert records[-1]["values"] == {"lr": 0.05, "model.hidden": 8, "batch_size": 32}
    assert records[-1]["results"] == {"hp/val_loss": 0.25}


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_tensor_settings_are_numbers(tmp_path):
    path = str(tmp_path / "run.jsonl")
    with VisdomLogger(env="x", journal=path, send=False, config={"lr": torch.tensor(0.1, device="cuda")}):
        pass
    assert settings_records(path)[0]["values"] == {"lr": 0.1}
