"""`--compile`: the compiled (on CUDA, graph-captured) training step trains like the eager one, and the
logger records every step's own loss without making the training thread wait for the device."""

import threading
import warnings

import pytest
import torch

from vizlab import journal as journal_mod
from vizlab.runner_kit.compiled import CompiledSGDTrainer
from vizlab.runner_kit.data import load_mnist, shuffled_batches
from vizlab.logger import VisdomLogger
from vizlab.runner_kit.models import MLP
from vizlab.runners import mnist_mlp

cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")


def train_losses(path):
    return [r["y"]["train"] for r in journal_mod.read(path)
            if r["op"] == "scalars" and r["win"] == "loss" and "train" in r["y"]]


def run(tmp_path, name, *extra):
    """The runner on 2000 training images, every step's loss in the journal; (metrics, losses)."""
    journal = tmp_path / f"{name}.jsonl"
    metrics = mnist_mlp.main(["--no-visdom", "--quiet", "--subset", "2000", "--log-every", "1",
                              "--journal", str(journal), *extra])
    return metrics, train_losses(journal)


@pytest.mark.slow  # compiling takes 10-30 s on 2 busy cores, once per session
def test_compiled_step_trains_like_the_eager_one_on_the_cpu(tmp_path, mnist_root):
    eager, eager_losses = run(tmp_path, "eager", "--device", "cpu", "--data-dir", str(mnist_root), "--epochs", "2")
    compiled, compiled_losses = run(tmp_path, "compiled", "--device", "cpu", "--data-dir", str(mnist_root),
                                    "--epochs", "2", "--compile")

    assert compiled["compile"] and not eager["compile"] and compiled["compile_seconds"] > 0
    assert len(compiled_losses) == len(eager_losses) == 20  # 10 steps an epoch
    # Same batches, SGD momentum and cosine schedule: the same loss at every step, up to float rounding.
    assert compiled_losses == pytest.approx(eager_losses, rel=1e-3)
    assert abs(compiled["test_accuracy"] - eager["test_accuracy"]) <= 0.005


def test_compile_refuses_several_processes(monkeypatch, capsys):
    monkeypatch.setattr(mnist_mlp.distributed, "init_distributed", lambda spec, parser: (0, 2, torch.device("cpu")))
    with pytest.raises(SystemExit):
        mnist_mlp.main(["--compile", "--no-visdom"])
    assert "--compile runs in one process" in capsys.readouterr().err


@pytest.mark.parametrize("option", ["--checkpoint", "--resume"])
def test_compile_refuses_checkpoints_it_could_not_resume_exactly(option, tmp_path, capsys):
    with pytest.raises(SystemExit) as stop:
        mnist_mlp.main(["--compile", "--no-visdom", option, str(tmp_path / "c.pt")])
    assert stop.value.code == 2
    assert "drop --compile or --checkpoint/--resume" in capsys.readouterr().err


@cuda
def test_values_logged_under_cuda_graphs_equal_the_eager_runs_step_by_step(tmp_path, mnist_root):
    eager, eager_losses = run(tmp_path, "eager", "--device", "cuda", "--data-dir", str(mnist_root), "--epochs", "3")
    compiled, compiled_losses = run(tmp_path, "compiled", "--device", "cuda", "--data-dir", str(mnist_root),
                                    "--epochs", "3", "--compile")

    assert compiled["device"].startswith("cuda") and compiled["compile"]
    # 30 steps; a logger that kept a reference instead of a copy would log the last replay's loss 30 times.
    assert len(set(compiled_losses)) == len(compiled_losses) == 30
    assert compiled_losses == pytest.approx(eager_losses, rel=1e-3)
    assert abs(compiled["test_accuracy"] - eager["test_accuracy"]) <= 0.005


@cuda
def test_logging_cuda_losses_every_step_never_syncs_the_training_thread(tmp_path, mnist_root):
    train_x, train_y, _, _ = load_mnist(mnist_root, "cuda")
    trainer = CompiledSGDTrainer(MLP().cuda(), train_x, train_y, batch_size=200, steps_per_epoch=300,
                                 lr=0.1, momentum=0.9, total_steps=300)
    assert trainer.graph is not None and trainer.step() is trainer.step()  # one tensor, overwritten per replay
    trainer.new_epoch(shuffled_batches(len(train_x), 200, torch.Generator("cuda").manual_seed(0)))
    torch.cuda.synchronize()

    training_thread, syncs = threading.get_ident(), []

    def count(message, *args, **kwargs):  # warnings from every thread land here; keep this thread's
        if "called a synchronizing CUDA operation" in str(message) and threading.get_ident() == training_thread:
            syncs.append(str(message))

    with VisdomLogger(env="compiled_sync", journal=str(tmp_path / "sync.jsonl"), send=False) as log, \
            warnings.catch_warnings():
        warnings.simplefilter("always")
        warnings.showwarning = count
        torch.cuda.set_sync_debug_mode("warn")  # each synchronizing CUDA call warns on its caller's thread
        try:
            for step in range(300):
                log.scalar("loss", step, trainer.step(), trace="train")
            in_loop = len(syncs)
            trainer.static_loss.item()  # the control: a real sync on this thread is counted
        finally:
            torch.cuda.set_sync_debug_mode(0)
    assert in_loop == 0, syncs
    assert len(syncs) >= 1
    assert len(train_losses(log.journal_path)) == 300
