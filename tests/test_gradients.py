"""vizlab.logger.gradients against PyTorch as the oracle, and the gradient_flow runner on real MNIST and a real server."""

import json

import pytest
import torch
from test_runners import common_args, has_points, read_window, traces
from torch import nn

from vizlab.logger.gradients import GradientNorms
from vizlab.runners import gradient_flow

pytestmark = pytest.mark.server   # starts or needs a real Visdom server


class FakeLog:
    def __init__(self):
        self.calls, self.declared = [], {}

    def window(self, win, **opts):
        self.declared[win] = opts

    def scalars(self, win, x, values, **opts):
        assert not opts, "declared once with window(), not on every call"
        self.calls.append((win, x, values))


def test_norms_match_autograd_every_n_steps_without_reading_the_device():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 3))
    log = FakeLog()
    watch = GradientNorms(model, log, every=2, win="g", x=lambda step: step / 10)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    for step in range(1, 6):
        optimizer.zero_grad()
        model(torch.randn(5, 4)).square().sum().backward()
        expected = [model[0].weight.grad.norm(), model[2].weight.grad.norm()]
        optimizer.step()
        if step % 2 == 0:
            win, x, values = log.calls[-1]
            assert (win, x, list(values)) == ("g", step / 10, ["layer 1", "layer 2"])
            assert all(isinstance(v, torch.Tensor) and v.ndim == 0 for v in values.values())
            assert torch.allclose(torch.stack(list(values.values())), torch.stack(expected))
        with torch.no_grad():
            model.eval()
            model(torch.randn(2, 4))  # an eval forward is not a training step
            model.train()
    assert len(log.calls) == 2 and watch.layer_names == {"layer 1": "0", "layer 2": "2"}
    assert log.declared["g"]["ytype"] == "log"   # one declaration, then option-free calls
    watch.remove()
    model(torch.randn(5, 4)).sum().backward()
    assert len(log.calls) == 2


def test_a_model_without_weights_is_a_clear_error():
    with pytest.raises(ValueError, match="no layer"):
        GradientNorms(nn.ReLU())
    with pytest.raises(ValueError, match="every"):
        GradientNorms(nn.Linear(2, 2), every=0)


def test_gradient_flow_shows_sigmoid_first_layer_vanishing(tmp_path, mnist_root, visdom_server, viz):
    env = "test_gradient_flow"
    metrics = gradient_flow.main(common_args(tmp_path, visdom_server.port, env) + [
        "--data-dir", str(mnist_root), "--subset", "4000", "--epochs", "1", "--log-every", "10"])

    ratio = metrics["relu_over_sigmoid_epoch1"]
    assert ratio >= 10, metrics
    assert json.loads((tmp_path / "metrics.json").read_text()) == metrics
    # 40 steps, recorded every 10: 4 points per layer at x = 0.25 .. 1, eight layers per network.
    layers = [f"layer {i}" for i in range(1, 9)]
    norms = {}
    for name in ("sigmoid", "tanh", "relu"):
        window = read_window(viz, env, f"gradients_{name}", has_points(*layers, count=4))
        assert window["content"]["layout"]["yaxis"]["type"] == "log"
        norms[name] = traces(window)
        assert norms[name]["layer 1"]["x"] == pytest.approx([0.25, 0.5, 0.75, 1.0])
    # The figure read back from the server says the same: sigmoid's first layer >= 10x below ReLU's.
    mean = {n: sum(t["layer 1"]["y"]) / 4 for n, t in norms.items()}
    assert mean["relu"] / mean["sigmoid"] == pytest.approx(ratio, rel=1e-4)
    # ...and within the sigmoid network the gradient shrinks from the last layer to the first.
    assert norms["sigmoid"]["layer 1"]["y"][-1] < norms["sigmoid"]["layer 8"]["y"][-1] / 10
    loss = traces(read_window(viz, env, "loss", has_points("sigmoid", "tanh", "relu", count=4)))
    assert loss["relu"]["x"] == pytest.approx([0.25, 0.5, 0.75, 1.0])
