"""VizlabCallback in a real transformers.Trainer: a 2-layer BERT from a config (no download), CPU."""

import math
import os

import pytest
import torch

from support.windows import points, window
from vizlab.cli.replay import replay
from vizlab.server.process import free_port

os.environ.setdefault("HF_HUB_OFFLINE", "1")   # before the import: huggingface_hub reads it once; nothing is downloaded
transformers = pytest.importorskip("transformers")
from vizlab.integrations.transformers import VizlabCallback  # noqa: E402

pytestmark = pytest.mark.server   # starts or needs a real Visdom server

STEPS = 20


class RandomTokens(torch.utils.data.Dataset):
    def __init__(self, n, seed):
        g = torch.Generator().manual_seed(seed)
        self.ids = torch.randint(0, 100, (n, 12), generator=g)
        self.labels = (self.ids[:, 0] > 50).long()   # learnable: the first token decides

    def __len__(self):
        return len(self.ids)

    def __getitem__(self, i):
        return {"input_ids": self.ids[i], "attention_mask": torch.ones(12, dtype=torch.long), "labels": self.labels[i]}


def train(tmp_path, *callbacks):
    transformers.set_seed(0)
    config = transformers.BertConfig(vocab_size=100, hidden_size=16, num_hidden_layers=2, num_attention_heads=2,
                                     intermediate_size=32, max_position_embeddings=16, num_labels=2)
    args = transformers.TrainingArguments(
        output_dir=str(tmp_path / "hf_out"), max_steps=STEPS, per_device_train_batch_size=8, learning_rate=1e-3,
        logging_steps=4, eval_strategy="steps", eval_steps=10, save_strategy="no", report_to="none",
        use_cpu=True, disable_tqdm=True, seed=0)
    trainer = transformers.Trainer(model=transformers.BertForSequenceClassification(config), args=args,
                                   train_dataset=RandomTokens(160, 1), eval_dataset=RandomTokens(32, 2),
                                   callbacks=list(callbacks))
    trainer.train()
    return trainer


def expected(history, key):
    return {entry["step"]: entry[key] for entry in history if key in entry}


def assert_windows(port, env, history):
    loss = points(port, env, "loss")
    assert loss.keys() == {"train", "eval"}
    for trace, key in [("train", "loss"), ("eval", "eval_loss")]:
        want = expected(history, key)
        assert loss[trace].keys() == want.keys() and len(want) >= 2
        assert all(math.isclose(loss[trace][s], v, rel_tol=1e-6) for s, v in want.items())
    lr = points(port, env, "learning_rate")["train"]
    assert lr == pytest.approx(expected(history, "learning_rate"), rel=1e-6)
    assert sorted(lr) == [4, 8, 12, 16, 20]                     # logging_steps=4, at state.global_step


def test_loss_eval_loss_and_lr_windows_hold_the_log_history(visdom_server, tmp_path):
    callback = VizlabCallback(env="hf_run", port=visdom_server.port, journal=str(tmp_path / "run.jsonl"))
    state = train(tmp_path, callback).state
    callback.close()
    assert_windows(visdom_server.port, "hf_run", state.log_history)
    settings = window(visdom_server.port, "hf_run", "settings")["content"]
    assert "per_device_train_batch_size" in settings and "num_hidden_layers" in settings and "BertConfig" in settings
    assert "train_runtime" in window(visdom_server.port, "hf_run", "summary")["content"]
    status = window(visdom_server.port, "hf_run", "status")["content"]   # state.max_steps: the bar
    assert "data-state='finished'" in status and f"{STEPS}/{STEPS} [" in status


def test_evaluate_after_train_adds_to_the_same_windows(visdom_server, tmp_path):
    callback = VizlabCallback(env="hf_after", port=visdom_server.port, journal=str(tmp_path / "run.jsonl"))
    trainer = train(tmp_path, callback)
    trainer.evaluate()
    callback.close()
    loss = points(visdom_server.port, "hf_after", "loss")
    raw = {t["name"]: t["y"] for t in window(visdom_server.port, "hf_after", "loss")["content"]["data"]}
    assert len(raw["train"]) == 5 and len(raw["eval"]) == 3    # steps 10, 20, and evaluate() at 20
    assert loss["eval"][STEPS] == pytest.approx(trainer.state.log_history[-1]["eval_loss"], rel=1e-6)


def test_server_down_training_completes_and_replay_rebuilds(visdom_server, tmp_path):
    callback = VizlabCallback(env="hf_down", port=free_port(), journal=str(tmp_path / "down.jsonl"))
    state = train(tmp_path, callback).state
    assert state.global_step == STEPS
    callback.close()
    replay(tmp_path / "down.jsonl", port=visdom_server.port)
    assert_windows(visdom_server.port, "hf_down", state.log_history)


def test_names_map_to_windows_and_env_defaults_to_the_output_dir_name(tmp_path):
    from vizlab.integrations.transformers import metric_window
    assert metric_window("eval_loss") == ("loss", "eval")
    assert metric_window("grad_norm") == ("grad_norm", "train")
    args = transformers.TrainingArguments(output_dir=str(tmp_path / "bert_small"), report_to="none", use_cpu=True)
    callback = VizlabCallback(port=free_port(), journal=False)
    assert callback._open(args).env == "bert_small"
    callback.close()
