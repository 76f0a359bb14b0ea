"""The linear and logistic regression runners end to end against a real Visdom server, and `vizlab run`."""

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from vizlab.cli import run as vizlab_run
from vizlab.runners import linear_regression, logistic_regression

pytestmark = pytest.mark.server   # starts or needs a real Visdom server

REPO = Path(__file__).resolve().parent.parent


def read_window(viz, env, win, ready=lambda data: True, timeout=30):
    """The window's JSON once `ready(data)` holds; polls the server until a deadline."""
    deadline = time.monotonic() + timeout
    while True:
        raw = viz.get_window_data(win, env=env)
        data = json.loads(raw) if raw else None
        if data and ready(data):
            return data
        if time.monotonic() > deadline:
            raise AssertionError(f"window {win!r} of env {env!r} not as expected by the deadline: {raw!r:.400}")
        time.sleep(0.1)  # poll interval


def traces(data):
    return {t["name"]: t for t in data["content"]["data"]}


def has_points(*names, count=1):
    """ready() for read_window: every named trace holds at least `count` points."""
    return lambda data: all(len(traces(data).get(n, {}).get("x", [])) >= count for n in names)


def common_args(tmp_path, port, env):
    return ["--env", env, "--port", str(port), "--quiet",
            "--journal", str(tmp_path / "journal.jsonl"), "--metrics-out", str(tmp_path / "metrics.json")]


def test_linear_regression_learns_w2_b0_and_shows_it(tmp_path, visdom_server, viz):
    env = "test_runners_linear"
    metrics = linear_regression.main(common_args(tmp_path, visdom_server.port, env))

    assert abs(metrics["weight"] - 2) < 0.1 and abs(metrics["bias"]) < 0.3
    assert json.loads((tmp_path / "metrics.json").read_text()) == metrics

    loss = traces(read_window(viz, env, "loss", has_points("train", count=51)))["train"]
    assert loss["x"] == list(range(1, 52))
    assert loss["y"][-1] < loss["y"][0] / 100

    params = traces(read_window(viz, env, "params", has_points("weight", "bias", count=51)))
    assert params["weight"]["y"][-1] == pytest.approx(metrics["weight"], abs=1e-5)
    assert params["bias"]["y"][-1] == pytest.approx(metrics["bias"], abs=1e-5)
    assert set(params["weight target"]["y"]) == {2} and set(params["bias target"]["y"]) == {0}

    # The fit window is redrawn every epoch; its last state is the final line.
    def final_fit(data):
        fit = traces(data).get("fit")
        return fit and fit["y"][-1] == pytest.approx(3 * metrics["weight"] + metrics["bias"], abs=1e-4)
    fit = traces(read_window(viz, env, "fit", final_fit))
    assert fit["data (y = 2x)"]["x"] == [1, 2, 3] and fit["data (y = 2x)"]["y"] == [2, 4, 6]
    assert "<b>epochs</b>" in read_window(viz, env, "hparams")["content"]


def test_logistic_regression_threshold_between_2_and_3_hours(tmp_path, visdom_server, viz):
    env = "test_runners_logistic"
    metrics = logistic_regression.main(common_args(tmp_path, visdom_server.port, env))

    assert 2 < metrics["threshold_hours"] < 3
    assert metrics["threshold_hours"] == pytest.approx(-metrics["bias"] / metrics["weight"])
    assert 0.5 < metrics["loss"] < 2.0  # the lesson ends near 1.12; it depends on the initialization

    # Logged at epoch 1, every 10th epoch and the last: 101 points, falling monotonically.
    loss = traces(read_window(viz, env, "loss", has_points("train", count=101)))["train"]
    assert loss["x"][:3] == [1, 10, 20] and loss["x"][-1] == 1000
    assert all(later < earlier for earlier, later in zip(loss["y"], loss["y"][1:]))
    assert loss["y"][-1] == pytest.approx(metrics["loss"], rel=1e-3)

    def final_curve(data):
        return "after epoch 1000" in json.dumps(data.get("content", {}).get("layout", {}))
    curves = traces(read_window(viz, env, "probability", final_curve))
    p_pass, threshold = curves["P(pass)"], curves["threshold 0.5"]
    assert len(p_pass["x"]) == 200 and p_pass["x"][0] == 0 and p_pass["x"][-1] == pytest.approx(10)
    assert set(threshold["y"]) == {0.5}
    assert all(0 <= p <= 1 for p in p_pass["y"]) and p_pass["y"] == sorted(p_pass["y"])
    # The curve crosses 0.5 where the metrics say.
    crossing = next(h for h, p in zip(p_pass["x"], p_pass["y"]) if p >= 0.5)
    assert crossing == pytest.approx(metrics["threshold_hours"], abs=10 / 199 + 1e-6)


def test_runner_is_deterministic_for_a_seed(tmp_path):
    args = ["--no-visdom", "--quiet", "--epochs", "200", "--seed", "3"]
    first = logistic_regression.main(args + ["--journal", str(tmp_path / "a.jsonl")])
    second = logistic_regression.main(args + ["--journal", str(tmp_path / "b.jsonl")])
    assert first == second


def test_no_visdom_summary_points_at_the_journal_not_a_server(tmp_path, capsys):
    journal = tmp_path / "j.jsonl"
    linear_regression.main(["--no-visdom", "--quiet", "--epochs", "3", "--journal", str(journal)])
    out, err = capsys.readouterr()
    assert out.strip().splitlines()[-1].startswith("linear_regression: weight ")
    closing, = [line for line in err.splitlines() if line.startswith("vizlab: closed env ")]
    assert "none sent (send=False)" in closing and f"vizlab replay {journal}" in closing
    assert "http://" not in out + err
    assert journal.stat().st_size > 0


def test_runner_finishes_with_the_server_down(tmp_path, capsys):
    from vizlab.server.process import free_port

    metrics = linear_regression.main(["--port", str(free_port()), "--quiet",
                                      "--journal", str(tmp_path / "down.jsonl")])
    assert abs(metrics["weight"] - 2) < 0.1
    journal = (tmp_path / "down.jsonl").read_text()
    assert '"params"' in journal and '"fit"' in journal


@pytest.mark.parametrize("argv, complaint", [
    (["--epochs", "0"], "--epochs: must be a positive integer"),
    (["--lr", "fast"], "--lr: must be a number, got 'fast'"),
    (["--bogus"], "unrecognized arguments: --bogus"),
])
def test_invalid_option_is_an_argparse_error(argv, complaint):
    done = subprocess.run([sys.executable, str(REPO / "runners" / "linear_regression.py"), *argv],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert complaint in done.stderr and "Traceback" not in done.stderr


def test_vizlab_run_starts_a_runner_and_rejects_unknown_names(tmp_path):
    cli = [sys.executable, "-m", "vizlab.cli", "run"]
    done = subprocess.run(cli + ["linear_regression", "--no-visdom", "--quiet", "--epochs", "5",
                                 "--journal", str(tmp_path / "j.jsonl"), "--metrics-out", str(tmp_path / "m.json")],
                          capture_output=True, text=True, timeout=120, cwd=REPO)
    assert done.returncode == 0, done.stderr
    assert "linear_regression: weight" in done.stdout
    assert set(json.loads((tmp_path / "m.json").read_text())) == {"weight", "bias", "loss"}

    unknown = subprocess.run(cli + ["nonesuch"], capture_output=True, text=True, timeout=120, cwd=REPO)
    assert unknown.returncode == 2
    assert "no runner named 'nonesuch'" in unknown.stderr and "linear_regression" in unknown.stderr
    assert unknown.stdout == "" and unknown.stderr.startswith("vizlab run: ")


def test_demo_runs_the_listed_runners_and_skips_missing_ones(tmp_path, visdom_server, viz, monkeypatch, capsys):
    from vizlab import cli

    monkeypatch.setattr(vizlab_run, "DEMO_ARGS", {
        "not_written_yet": [],
        "linear_regression": ["--epochs", "7", "--quiet", "--journal", str(tmp_path / "demo.jsonl")]})
    assert cli.main(["demo", "--port", str(visdom_server.port)]) == 0
    out = capsys.readouterr().out
    assert f"watch at http://localhost:{visdom_server.port}/env/linear_regression" in out
    assert "not_written_yet" not in out
    read_window(viz, "linear_regression", "loss", has_points("train", count=7))
