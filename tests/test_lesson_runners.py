"""The lesson runners end-to-end against a real Visdom server, checked by reading the windows back."""

import json
import math

import numpy as np
import pytest

from vizlab.runners import activations, himmelblau, optimizers, softmax_entropy

from support.windows import raw_traces

pytestmark = pytest.mark.server   # starts or needs a real Visdom server


def run_runner(module, visdom_server, env, tmp_path, *extra):
    """main() of a runner against the test server; returns its metrics, checked equal to --metrics-out."""
    metrics_path = tmp_path / f"{env}.json"
    metrics = module.main(["--env", env, "--port", str(visdom_server.port), "--device", "cpu",
                           "--journal", str(tmp_path / f"{env}.jsonl"), "--quiet",
                           "--metrics-out", str(metrics_path), *extra])
    assert json.loads(metrics_path.read_text()) == json.loads(json.dumps(metrics))
    return metrics


def window(viz, win, env):
    data = viz.get_window_data(win, env=env)
    assert data, f"window {win!r} missing from env {env!r}"
    return json.loads(data)


def traces_by_name(viz, win, env):
    return {t["name"]: t for t in raw_traces(window(viz, win, env)["content"]["data"])}


# activations ------------------------------------------------------------------------------------

def sigmoid(x):
    return 1 / (1 + np.exp(-x))


SELU_ALPHA, SELU_SCALE = 1.6732632423543772, 1.0507009873554805
CLOSED_FORM_DERIVATIVES = {
    "sigmoid": lambda x: sigmoid(x) * (1 - sigmoid(x)),
    "tanh": lambda x: 1 - np.tanh(x) ** 2,
    "relu": lambda x: np.where(x > 0, 1.0, 0.0),
    "leaky_relu": lambda x: np.where(x > 0, 1.0, 0.01),
    "selu": lambda x: np.where(x > 0, SELU_SCALE, SELU_SCALE * SELU_ALPHA * np.exp(x)),
    "softplus": sigmoid,
}


def test_activations_plots_autograd_derivatives_matching_closed_forms(visdom_server, viz, tmp_path):
    env = "test_runner_activations"
    metrics = run_runner(activations, visdom_server, env, tmp_path, "--points", "201")

    curves = traces_by_name(viz, "activations", env)
    assert set(curves) == set(CLOSED_FORM_DERIVATIVES)
    x = np.array(curves["tanh"]["x"])
    assert len(x) == 201 and x[0] == -10 and x[-1] == 10
    np.testing.assert_allclose(curves["tanh"]["y"], np.tanh(x), atol=1e-6)
    np.testing.assert_allclose(curves["relu"]["y"], np.maximum(x, 0), atol=1e-6)

    grads = traces_by_name(viz, "gradients", env)
    assert set(grads) == set(CLOSED_FORM_DERIVATIVES)
    for name, derivative in CLOSED_FORM_DERIVATIVES.items():
        np.testing.assert_allclose(grads[name]["y"], derivative(np.array(grads[name]["x"])),
                                   atol=1e-6, err_msg=name)
    # The lesson's point: sigmoid's gradient vanishes at large |x| while ReLU's does not.
    assert max(grads["sigmoid"]["y"]) == pytest.approx(0.25)
    assert grads["sigmoid"]["y"][-1] < 1e-4 and grads["relu"]["y"][-1] == 1
    assert metrics["gradient_at_xmax"]["sigmoid"] == pytest.approx(grads["sigmoid"]["y"][-1])

    text = window(viz, "lesson", env)["content"]
    assert "vanishing gradient" in text and "autograd.grad" in text


# himmelblau -------------------------------------------------------------------------------------

def path_lines(viz, env):
    """The path figure's traces: name -> trace, for the lines that are paths."""
    traces = window(viz, "path", env)["content"]["data"]
    return {t["name"]: t for t in traces if t["name"].startswith("start")}, traces


def test_himmelblau_adam_from_origin_reaches_3_2(visdom_server, viz, tmp_path):
    env = "test_runner_himmelblau"
    metrics = run_runner(himmelblau, visdom_server, env, tmp_path)  # the lesson: Adam 1e-2, 20000 steps

    f_trace = traces_by_name(viz, "f", env)["start (0, 0)"]
    assert f_trace["x"][0] == 0 and f_trace["y"][0] == pytest.approx(170.0)  # the lesson's f(0, 0)
    assert f_trace["x"][-1] == 20000 and f_trace["y"][-1] < 1e-6
    assert f_trace["x"][1] == 50  # decimated: one point per 50 steps
    assert window(viz, "f", env)["content"]["layout"]["yaxis"]["type"] == "log"

    paths, traces = path_lines(viz, env)
    (path,) = paths.values()
    assert (path["x"][0], path["y"][0]) == (0, 0)
    assert math.hypot(path["x"][-1] - 3, path["y"][-1] - 2) < 1e-3
    assert any(t["type"] == "contour" for t in traces)
    minima = next(t for t in traces if t["name"] == "minima")
    assert sorted(zip(minima["x"], minima["y"])) == sorted(himmelblau.MINIMA)
    (run,) = metrics["runs"]
    assert run["f"] < 1e-6 and run["nearest_minimum"] == [3.0, 2.0] and run["distance"] < 1e-3


def test_himmelblau_four_corners_reach_four_different_minima(visdom_server, viz, tmp_path):
    env = "test_runner_himmelblau_corners"
    run_runner(himmelblau, visdom_server, env, tmp_path, "--all-starts", "--epochs", "4000")

    paths, _ = path_lines(viz, env)
    assert len(paths) == 4
    reached = set()
    for trace in paths.values():
        end = (trace["x"][-1], trace["y"][-1])
        minimum, distance = himmelblau.nearest_minimum(*end)
        assert distance < 1e-2, f"{trace['name']} ended at {end}, {distance:.3g} from any minimum"
        reached.add(minimum)
    assert len(reached) == 4
    assert len(traces_by_name(viz, "f", env)) == 4


def test_himmelblau_rejects_a_malformed_start(capsys):
    with pytest.raises(SystemExit) as exit_info:
        himmelblau.main(["--start", "3;2", "--no-visdom"])
    assert exit_info.value.code == 2
    assert "expected two numbers as x,y" in capsys.readouterr().err


# optimizers -------------------------------------------------------------------------------------

def test_optimizers_every_trace_starts_from_the_same_loss(visdom_server, viz, tmp_path):
    env = "test_runner_optimizers"
    metrics = run_runner(optimizers, visdom_server, env, tmp_path, "--epochs", "40")

    curves = traces_by_name(viz, "loss", env)
    assert set(curves) == set(optimizers.OPTIMIZERS)  # all eleven, LBFGS included
    start = curves["sgd"]["y"][0]
    for name, trace in curves.items():
        assert trace["x"][0] == 0 and trace["x"][-1] == 40, name
        assert trace["y"][0] == pytest.approx(start, abs=1e-7), f"{name} starts elsewhere"
        assert trace["y"][-1] < start, f"{name} did not lower the loss"
        assert trace["y"][-1] == pytest.approx(metrics["optimizers"][name]["final_loss"], rel=1e-6)

    table = window(viz, "comparison", env)["content"]
    assert table.count("<tr>") == 1 + len(optimizers.OPTIMIZERS)
    for name, row in metrics["optimizers"].items():
        assert f"<td>{name}</td>" in table and f"{row['final_loss']:.4f}" in table


def test_optimizers_subset_and_unknown_name(visdom_server, viz, tmp_path, capsys):
    env = "test_runner_optimizers_subset"
    run_runner(optimizers, visdom_server, env, tmp_path, "--epochs", "5", "--optimizers", "lbfgs,sgd")
    assert set(traces_by_name(viz, "loss", env)) == {"lbfgs", "sgd"}

    with pytest.raises(SystemExit) as exit_info:
        optimizers.main(["--optimizers", "adam,nadam", "--no-visdom"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "unknown optimizer(s) nadam" in err and ",".join(optimizers.OPTIMIZERS) in err


# softmax_entropy --------------------------------------------------------------------------------

def test_softmax_entropy_shows_the_lessons_figures(visdom_server, viz, tmp_path):
    env = "test_runner_softmax_entropy"
    metrics = run_runner(softmax_entropy, visdom_server, env, tmp_path)

    for name, bits in (("uniform", "2.0000"), ("peaked", "1.3568"), ("confident", "0.0342")):
        content = window(viz, f"entropy_{name}", env)["content"]
        (bars,) = content["data"]
        assert bars["type"] == "bar" and bars["y"] == softmax_entropy.DISTRIBUTIONS[name]
        assert f"H = {bits} bits" in content["layout"]["title"]

    checks = metrics["cross_entropy"]
    assert checks["cross_entropy"] == checks["nll_loss(log_softmax)"]
    text = window(viz, "cross_entropy", env)["content"]
    assert f"{checks['cross_entropy']:.6f}" in text and "equals nll_loss(log_softmax)" in text

    (heatmap,) = window(viz, "jacobian", env)["content"]["data"]
    assert heatmap["type"] == "heatmap"
    # seed 004 printed these rows for torch.autograd.grad(p[i], [a]) at a = [0.8659, 0.0540, 0.4153]
    lesson = [[0.2496, -0.1025, -0.1471], [-0.1025, 0.1678, -0.0653], [-0.1471, -0.0653, 0.2124]]
    np.testing.assert_allclose(heatmap["z"], lesson, atol=1e-4)
    p = np.array(metrics["softmax"])
    np.testing.assert_allclose(p, [0.4805, 0.2133, 0.3062], atol=1e-4)
    np.testing.assert_allclose(heatmap["z"], np.diag(p) - np.outer(p, p), atol=1e-6)


def test_softmax_entropy_jacobian_for_other_logits(visdom_server, viz, tmp_path):
    env = "test_runner_softmax_logits"
    run_runner(softmax_entropy, visdom_server, env, tmp_path, "--logits=-1,0,1,2")
    (heatmap,) = window(viz, "jacobian", env)["content"]["data"]
    z = np.array(heatmap["z"])
    p = np.exp([-1, 0, 1, 2]) / np.exp([-1, 0, 1, 2]).sum()
    assert z.shape == (4, 4)
    np.testing.assert_allclose(np.diag(z), p * (1 - p), atol=1e-6)
    np.testing.assert_allclose(z[0, 3], -p[0] * p[3], atol=1e-6)
    np.testing.assert_allclose(z.sum(axis=1), 0, atol=1e-6)  # probabilities always sum to 1

