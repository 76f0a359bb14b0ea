"""accelerate's trackers to Visdom: VizlabTracker in a real Accelerator, and code written for
`log_with="tensorboard"` / `Trainer(report_to="tensorboard")` run unchanged by `python -m vizlab.tensorboard`
(real accelerate, a real tiny transformers Trainer), read back from a real server."""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import torch

from support.windows import points, window
from vizlab.settings_table import read_settings

accelerate = pytest.importorskip("accelerate")
from vizlab.integrations.accelerate import VizlabTracker  # noqa: E402

pytestmark = pytest.mark.server   # needs a real Visdom server
ROOT = Path(__file__).resolve().parent.parent


def test_vizlab_tracker_in_a_real_accelerator(visdom_server, tmp_path):
    port = visdom_server.port
    tracker = VizlabTracker("glue", port=port, logging_dir=tmp_path)
    accelerator = accelerate.Accelerator(cpu=True, log_with=tracker)
    accelerator.init_trackers("glue", config={"lr": 0.01, "epochs": 3, "model": "mlp"})
    torch.manual_seed(0)
    model = torch.nn.Linear(4, 1)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    data = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(torch.rand(32, 4), torch.rand(32, 1)),
                                       batch_size=8)
    model, optimizer, data = accelerator.prepare(model, optimizer, data)
    logged = {}
    for epoch in range(3):
        total = 0.0
        for x, y in data:
            loss = torch.nn.functional.mse_loss(model(x), y)
            accelerator.backward(loss)
            optimizer.step()
            optimizer.zero_grad()
            total += loss.detach()
        logged[epoch] = float(total / len(data))
        accelerator.log({"train/loss": total / len(data), "eval/loss": 0.5 - epoch / 10, "epoch": epoch,
                         "accuracy": {"top1": 0.5 + epoch / 10, "top5": 0.9}, "note": f"epoch {epoch}"}, step=epoch)
    accelerator.get_tracker("vizlab").log_images({"samples": [np.full((4, 6, 3), 255, np.uint8), torch.rand(3, 4, 6)],
                                                  "batch": torch.rand(2, 3, 5, 5)}, step=2)
    accelerator.get_tracker("vizlab").log_table("preds", columns=["x", "y"], data=[[1, 2]], step=2)
    assert accelerator.get_tracker("vizlab", unwrap=True) is tracker.writer
    env = tracker.env
    accelerator.end_training()
    assert env.startswith("glue-")
    loss = points(port, env, "loss")
    assert loss["train"] == pytest.approx(logged) and loss["eval"] == pytest.approx({0: 0.5, 1: 0.4, 2: 0.3})
    assert points(port, env, "accuracy") == {"top1": pytest.approx({0: 0.5, 1: 0.6, 2: 0.7}), "top5": {0: 0.9, 1: 0.9, 2: 0.9}}
    assert "epoch 2" in window(port, env, "note")["content"]
    assert window(port, env, "samples")["type"] == window(port, env, "batch")["type"] == "image"
    assert "<td" in window(port, env, "preds")["content"]
    assert read_settings(window(port, env, "settings")["content"]) == {"lr": "0.01", "epochs": "3", "model": "mlp"}


def run_unchanged(tmp_path, port, code, *args):
    """The script run as `python -m vizlab.tensorboard script.py`, this tree first on the path."""
    script = tmp_path / "script.py"
    script.write_text(textwrap.dedent(code))
    env = dict(os.environ, VISDOM_PORT=str(port), PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
               HF_HUB_OFFLINE="1", TOKENIZERS_PARALLELISM="false")
    done = subprocess.run([sys.executable, "-m", "vizlab.tensorboard", str(script), *args], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=400)
    assert done.returncode == 0, done.stderr[-3000:]
    return done


ACCELERATE_SCRIPT = """
    import sys
    import torch
    from accelerate import Accelerator

    # accelerate's examples/by_feature/tracking.py, reduced: log_with="tensorboard", project "tracking"
    accelerator = Accelerator(cpu=True, log_with="tensorboard", project_dir=".")
    accelerator.init_trackers("tracking", {"lr": float(sys.argv[1]), "num_epochs": 3})
    for epoch in range(3):
        accelerator.log({"train_loss": float(sys.argv[1]) * (3 - epoch), "accuracy": epoch / 3, "epoch": epoch},
                        step=epoch)
    writer = accelerator.get_tracker("tensorboard", unwrap=True)
    print("WRITER", type(writer).__module__, writer.env, flush=True)
    accelerator.end_training()
"""


@pytest.mark.slow
def test_accelerate_log_with_tensorboard_runs_unchanged_and_each_run_is_its_own_env(visdom_server, tmp_path):
    port = visdom_server.port
    envs = []
    for lr in ("0.1", "0.2"):   # two runs of one script in one folder: accelerate's tracking/ both times
        out = run_unchanged(tmp_path, port, ACCELERATE_SCRIPT, lr).stdout
        line = next(line for line in out.splitlines() if line.startswith("WRITER"))
        module, env = line.split()[1:]
        assert module == "vizlab.integrations.tensorboard"
        envs.append(env)
    assert envs == ["tracking", "tracking-2"]
    for env, lr in zip(envs, (0.1, 0.2)):
        assert points(port, env, "train_loss") == {"train_loss": pytest.approx({0: 3 * lr, 1: 2 * lr, 2: lr})}
        assert len(points(port, env, "accuracy")["accuracy"]) == 3
        assert read_settings(window(port, env, "hparams")["content"])["lr"] == str(lr)
    assert (tmp_path / "tracking" / "vizlab.jsonl").is_file() and (tmp_path / "tracking" / "vizlab-2.jsonl").is_file()


TRAINER_SCRIPT = """
    import torch
    import transformers

    class RandomTokens(torch.utils.data.Dataset):
        def __init__(self, n, seed):
            g = torch.Generator().manual_seed(seed)
            self.ids = torch.randint(0, 100, (n, 12), generator=g)
            self.labels = (self.ids[:, 0] > 50).long()
        def __len__(self):
            return len(self.ids)
        def __getitem__(self, i):
            return {"input_ids": self.ids[i], "labels": self.labels[i]}

    transformers.set_seed(0)
    config = transformers.BertConfig(vocab_size=100, hidden_size=16, num_hidden_layers=2, num_attention_heads=2,
                                     intermediate_size=32, max_position_embeddings=16, num_labels=2)
    args = transformers.TrainingArguments(output_dir="hf_out", max_steps=12, per_device_train_batch_size=8,
                                          logging_steps=4, eval_strategy="steps", eval_steps=6, save_strategy="no",
                                          report_to="tensorboard", use_cpu=True, disable_tqdm=True, seed=0)
    trainer = transformers.Trainer(model=transformers.BertForSequenceClassification(config), args=args,
                                   train_dataset=RandomTokens(96, 1), eval_dataset=RandomTokens(16, 2))
    trainer.train()
    import json
    print("HISTORY", json.dumps(trainer.state.log_history), flush=True)
"""


@pytest.mark.slow
def test_transformers_report_to_tensorboard_runs_unchanged(visdom_server, tmp_path):
    pytest.importorskip("transformers")
    port = visdom_server.port
    out = run_unchanged(tmp_path, port, TRAINER_SCRIPT).stdout
    history = json.loads(next(line for line in out.splitlines() if line.startswith("HISTORY"))[8:])
    runs = list((tmp_path / "hf_out" / "runs").iterdir())
    assert len(runs) == 1 and (runs[0] / "vizlab.jsonl").is_file()   # vizlab's journal, no event file
    assert not list(runs[0].glob("events.out.tfevents*"))
    env = runs[0].name
    loss = points(port, env, "loss")
    assert loss["train"] == pytest.approx({e["step"]: e["loss"] for e in history if "loss" in e}, rel=1e-6)
    assert loss["eval"] == pytest.approx({e["step"]: e["eval_loss"] for e in history if "eval_loss" in e}, rel=1e-6)
    assert set(points(port, env, "learning_rate")) == {"train"}


def test_launcher_runs_a_module_and_names_what_is_missing(tmp_path):
    (tmp_path / "tbmod.py").write_text("import sys\nimport tensorboardX\nfrom torch.utils.tensorboard.writer import "
                                       "SummaryWriter\nprint(SummaryWriter.__module__, tensorboardX.SummaryWriter.__module__,"
                                       " sys.argv[1:])\n")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    run = lambda *args: subprocess.run([sys.executable, "-m", "vizlab.tensorboard", *args], cwd=tmp_path, env=env,  # noqa: E731
                                       capture_output=True, text=True, timeout=120)
    done = run("-m", "tbmod", "a")
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["vizlab.integrations.tensorboard"] * 2 + ["['a']"]
    for args, message in ((["-m", "nosuchmod"], "no module named 'nosuchmod'"), (["nope.py"], "no such script: nope.py")):
        done = run(*args)
        assert done.returncode == 2 and message in done.stderr and "Traceback" not in done.stderr


@pytest.mark.slow
def test_transformers_report_to_vizlab(visdom_server, tmp_path):
    """After `import vizlab.integrations.transformers`, report_to="vizlab" is a name transformers knows."""
    pytest.importorskip("transformers")
    code = ("import vizlab.integrations.transformers\n" + textwrap.dedent(TRAINER_SCRIPT)
            .replace('report_to="tensorboard"', 'report_to="vizlab"'))
    out = run_unchanged(tmp_path, visdom_server.port, code).stdout
    history = json.loads(next(line for line in out.splitlines() if line.startswith("HISTORY"))[8:])
    loss = points(visdom_server.port, "hf_out", "loss")
    assert loss["train"] == pytest.approx({e["step"]: e["loss"] for e in history if "loss" in e}, rel=1e-6)
    assert loss["eval"] == pytest.approx({e["step"]: e["eval_loss"] for e in history if "eval_loss" in e}, rel=1e-6)
