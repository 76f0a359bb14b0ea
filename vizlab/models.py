"""The lessons' models: one class per model, each a Module with __init__ and forward."""

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
        layers = [nn.Flatten(), nn.Linear(28 * 28, hidden), nn.ReLU(),
                  nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, 10)]
        if relu_on_logits:
            layers.append(nn.ReLU())
        self.net = nn.Sequential(*layers)
        if kaiming_init:
            for layer in self.net:
                if isinstance(layer, nn.Linear):
                    nn.init.kaiming_normal_(layer.weight)
                    nn.init.zeros_(layer.bias)

    def forward(self, x):
        return self.net(x)
