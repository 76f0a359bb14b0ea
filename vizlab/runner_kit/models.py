"""The lessons' models: one class per model, each a Module with __init__ and forward."""

import functools

import torch
from torch import nn


class LinearRegression(nn.Module):
    """y = w x + b (the linear-regression lesson)."""

    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(1, 1)

    def forward(self, x):
        return self.linear(x)


class LogisticRegression(nn.Module):
    """P(pass | hours) = sigmoid(w x + b) (the logistic-regression lesson)."""

    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(1, 1)

    def forward(self, x):
        return torch.sigmoid(self.linear(x))


class MLP(nn.Module):
    """784-200-200-10 perceptron for MNIST.

    relu_on_logits=True with kaiming_init=True is the tutorial's exact network: its ReLU on the
    output layer clips negative logits to 0, so classes whose logits start negative get no
    gradient and training can stall (near 73 % with seed 0). The sound default omits it.
    """

    def __init__(self, hidden=200, relu_on_logits=False, kaiming_init=False):
        super().__init__()
        # The tutorial's init draws its own numbers: skip PyTorch's default init so it doesn't
        # consume random numbers first.
        linear = functools.partial(nn.utils.skip_init, nn.Linear) if kaiming_init else nn.Linear
        layers = [nn.Flatten(), linear(28 * 28, hidden), nn.ReLU(),
                  linear(hidden, hidden), nn.ReLU(), linear(hidden, 10)]
        if relu_on_logits:
            layers.append(nn.ReLU())
        self.net = nn.Sequential(*layers)
        if kaiming_init:
            self._tutorial_init()

    @torch.no_grad()
    def _tutorial_init(self):
        """w = torch.randn(...) for each layer, then kaiming_normal_ on each, zero biases: the
        tutorial's random draws in its order, so a seed gives the tutorial's run."""
        linears = [layer for layer in self.net if isinstance(layer, nn.Linear)]
        for layer in linears:
            layer.weight.normal_()
            layer.bias.zero_()
        for layer in linears:
            nn.init.kaiming_normal_(layer.weight)

    def forward(self, x):
        return self.net(x)
