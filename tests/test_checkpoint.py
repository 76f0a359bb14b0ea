"""--checkpoint/--resume: a resumed run equals a straight one, bit for bit, in the same windows and journal."""

import importlib
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from test_runners import has_points, read_window, traces

from vizlab.runner_kit import checkpoint
from vizlab import journal as journal_mod
from vizlab.cli.replay import replay
from vizlab.runners import linear_regression, logistic_regression, mnist_mlp

pytestmark = pytest.mark.server   # starts or needs a real Visdom server


def run(main, tmp_path, port, env, journal, *extra):
    return main(["--env", env, "--port", str(port), "--quiet", "--journal", str(tmp_path / journal), *extra])


def windows(viz, env, wins):
    return {win: {n: (t["x"], t["y"]) for n, t in traces(read_window(viz, env, win, ready)).items()}
            for win, ready in wins.items()}


def test_mnist_two_epochs_then_resume_to_four_equals_four_straight(tmp_path, mnist_root, visdom_server, viz):
    port, ckpt = visdom_server.port, str(tmp_path / "run.pt")
    args = ["--data-dir", str(mnist_root), "--subset", "2000", "--preset", "lesson", "--log-every", "5"]
    straight = run(mnist_mlp.main, tmp_path, port, "test_ckpt_straight", "straight.jsonl", *args, "--epochs", "4")
    run(mnist_mlp.main, tmp_path, port, "test_ckpt_resumed", "resumed.jsonl", *args, "--epochs", "2",
        "--checkpoint", ckpt)
    resumed = mnist_mlp.main(["--env", "test_ckpt_resumed", "--port", str(port), "--quiet", *args,
                              "--epochs", "4", "--resume", ckpt, "--checkpoint", ckpt])

    assert (resumed["test_loss"], resumed["test_accuracy"]) == (straight["test_loss"], straight["test_accuracy"])
    # 10 steps an epoch, the train loss every 5: 8 points; val once an epoch: 4.
    wins = {"loss": lambda d: has_points("train", count=8)(d) and has_points("val", count=4)(d),
            "accuracy": has_points("val", count=4)}
    live = windows(viz, "test_ckpt_resumed", wins)
    assert live == windows(viz, "test_ckpt_straight", wins)       # exactly: same x, same y, no repeat
    assert live["loss"]["train"][0] == pytest.approx([k / 2 for k in range(1, 9)])
    assert live["loss"]["val"][0] == [1, 2, 3, 4]

    # One journal, continued: its second start is marked resume, and a replay joins both parts.
    journal = tmp_path / "resumed.jsonl"
    starts = [r for r in journal_mod.read(str(journal)) if r["op"] == "start"]
    assert [s.get("resume", False) for s in starts] == [False, True]
    assert torch.load(ckpt, weights_only=True)["done"] == 4
    replay(str(journal), port=port, env="test_ckpt_replayed")
    assert windows(viz, "test_ckpt_replayed", wins) == live


def test_lesson_runner_resumes_exactly(tmp_path, visdom_server, viz):
    port, ckpt = visdom_server.port, str(tmp_path / "lr.pt")
    straight = run(linear_regression.main, tmp_path, port, "test_ckpt_lin_straight", "a.jsonl", "--epochs", "40")
    run(linear_regression.main, tmp_path, port, "test_ckpt_lin", "b.jsonl", "--epochs", "20", "--checkpoint", ckpt)
    resumed = linear_regression.main(["--env", "test_ckpt_lin", "--port", str(port), "--quiet",
                                      "--epochs", "40", "--resume", ckpt])
    assert resumed == straight
    wins = {"loss": has_points("train", count=40), "params": has_points("weight", count=40)}
    live = windows(viz, "test_ckpt_lin", wins)
    assert live == windows(viz, "test_ckpt_lin_straight", wins)
    assert live["loss"]["train"][0] == list(range(1, 41))


def test_a_kill_mid_save_leaves_the_previous_checkpoint_whole(tmp_path, monkeypatch):
    ckpt = tmp_path / "lr.pt"
    base = ["--no-visdom", "--quiet", "--journal", str(tmp_path / "j.jsonl"), "--checkpoint", str(ckpt)]
    linear_regression.main(base + ["--epochs", "5"])
    whole = ckpt.read_bytes()

    def killed_mid_write(state, f):
        f.write(b"half a checkpoint")
        raise KeyboardInterrupt   # the process dies here, before the rename

    monkeypatch.setattr(checkpoint.torch, "save", killed_mid_write)
    with pytest.raises(KeyboardInterrupt):
        linear_regression.main(base[:-2] + ["--epochs", "10", "--resume", str(ckpt), "--checkpoint", str(ckpt)])
    assert ckpt.read_bytes() == whole
    monkeypatch.undo()
    resumed = linear_regression.main(["--no-visdom", "--quiet", "--epochs", "10", "--resume", str(ckpt)])
    straight = linear_regression.main(["--no-visdom", "--quiet", "--epochs", "10",
                                       "--journal", str(tmp_path / "s.jsonl")])
    assert resumed == straight


def test_sigkill_while_saving_leaves_a_checkpoint_that_resumes_exactly(tmp_path):
    """The real fault: the training process is SIGKILLed the moment a save has begun (PATH.tmp
    exists), after an earlier save is whole. The checkpoint left behind must load and resume to
    the straight run's result, and the journal must hold no half line."""
    ckpt, journal = tmp_path / "lr.pt", tmp_path / "j.jsonl"
    command = [sys.executable, "-m", "vizlab.runners.logistic_regression", "--no-visdom", "--quiet",
               "--epochs", "100000", "--refresh-every", "10", "--journal", str(journal),
               "--checkpoint", str(ckpt)]
    runner = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    tmp, deadline = Path(f"{ckpt}.tmp"), time.monotonic() + 60
    try:
        # Busy-wait on purpose: a save of this model takes about a millisecond.
        while not (ckpt.exists() and tmp.exists()) and runner.poll() is None and time.monotonic() < deadline:
            pass
        mid_save = ckpt.exists() and tmp.exists()
        runner.send_signal(signal.SIGKILL)
    finally:
        runner.wait()
    assert mid_save and runner.returncode == -signal.SIGKILL, "no save was seen under way (PATH.tmp)"

    done = torch.load(ckpt, weights_only=False)["done"]    # whole, whatever the kill interrupted
    assert journal.read_bytes().endswith(b"\n")
    epochs = str(done + 20)
    resumed = logistic_regression.main(["--no-visdom", "--quiet", "--epochs", epochs, "--refresh-every", "10",
                                        "--resume", str(ckpt)])
    straight = logistic_regression.main(["--no-visdom", "--quiet", "--epochs", epochs, "--refresh-every", "10",
                                         "--journal", str(tmp_path / "s.jsonl")])
    assert resumed == straight


@pytest.mark.parametrize("problem", ["missing", "not_a_checkpoint", "other_runner", "other_model", "done"])
def test_bad_resume_is_a_clear_error(tmp_path, capsys, request, problem):
    ckpt = tmp_path / "lr.pt"
    linear_regression.main(["--no-visdom", "--quiet", "--epochs", "3", "--journal", str(tmp_path / "j.jsonl"),
                            "--checkpoint", str(ckpt)])
    data = request.getfixturevalue("mnist_root") if problem == "other_runner" else None
    main, extra, expected = {
        "missing": (linear_regression.main, ["--resume", str(tmp_path / "nope.pt")], "no such file"),
        "not_a_checkpoint": (linear_regression.main, ["--resume", str(tmp_path / "j.jsonl")], "not a vizlab checkpoint"),
        "other_runner": (mnist_mlp.main, ["--resume", str(ckpt), "--data-dir", str(data)], "runner 'linear_regression', not 'mnist_mlp'"),
        "other_model": (linear_regression.main, ["--resume", str(ckpt), "--lr", "0.1"], "--lr 0.05 (this run: 0.1)"),
        "done": (linear_regression.main, ["--resume", str(ckpt), "--epochs", "3"], "pass a larger --epochs"),
    }[problem]
    capsys.readouterr()
    with pytest.raises(SystemExit) as stop:
        main(["--no-visdom", "--quiet", *extra])
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert expected in err and "Traceback" not in err and err.count("error:") == 1


def test_different_shapes_are_a_different_model(tmp_path):
    class Parser:
        def error(self, message):
            raise SystemExit(message)

    class Args:
        resume, journal, epochs, seed = str(tmp_path / "c.pt"), None, 5, 0

    saver = checkpoint.Checkpoint(Parser(), Args(), "demo", torch.nn.Linear(3, 2))
    torch.save({"format": checkpoint.FORMAT, "runner": "demo", "settings": saver.settings(), "done": 1,
                "shapes": {"weight": (4, 2), "bias": (4,)}}, Args.resume)
    with pytest.raises(SystemExit, match="a different model"):
        saver.resume()
    json.dumps(saver.settings())


def untimed(metrics):
    """The figures without wall-clock times (seconds, samples/s), which no two runs share."""
    if isinstance(metrics, dict):
        return {k: untimed(v) for k, v in metrics.items() if "second" not in k}
    return metrics


def journal_records(path):
    """Each window's records in order, but the start marks, the settings pane (it shows the first
    part's --epochs), the optimizers' table (it shows each one's seconds) and the status pane
    (clock times). Batched records keep each window's order, not the order between windows."""
    records = [r for r in journal_mod.read(str(path))
               if r["op"] != "start" and r.get("win") not in ("hparams", "comparison", "status")]
    return sorted(records, key=lambda r: r["win"])   # stable: each window's order stays


@pytest.mark.parametrize("runner, total, half, extra", [
    ("logistic_regression", 200, 100, []),
    ("optimizers", 60, 30, ["--log-every", "10", "--points", "200"]),
    ("himmelblau", 400, 200, ["--all-starts", "--log-every", "50", "--draw-every", "100"]),
    ("gradient_flow", 2, 1, ["--subset", "600", "--depth", "4", "--hidden", "32", "--log-every", "2"]),
])
def test_every_training_runner_resumes_exactly(tmp_path, request, runner, total, half, extra):
    main = importlib.import_module(f"vizlab.runners.{runner}").main
    if runner == "gradient_flow":
        extra = extra + ["--data-dir", str(request.getfixturevalue("mnist_root"))]
    base = ["--no-visdom", "--quiet", *extra]
    ckpt, straight_journal = str(tmp_path / "c.pt"), tmp_path / "straight.jsonl"
    straight = main(base + ["--epochs", str(total), "--journal", str(straight_journal)])
    main(base + ["--epochs", str(half), "--journal", str(tmp_path / "split.jsonl"), "--checkpoint", ckpt])
    resumed = main(base + ["--epochs", str(total), "--resume", ckpt])
    assert untimed(resumed) == untimed(straight)
    assert journal_records(tmp_path / "split.jsonl") == journal_records(straight_journal)
