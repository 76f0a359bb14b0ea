"""Per-layer gradient norms of any nn.Module, recorded by hooks: `GradientNorms(model, log, every=10)`.

One line in a user's loop (before it): every `every` training steps, as each layer's weight
gradient is accumulated, its L2 norm is taken as a 0-d tensor on the gradient's device (no
`.item()`, so the training thread never waits for the device) and, once every watched layer has
reported, all norms go to one line window, one trace per layer on a log axis. VisdomLogger reads
the tensors on its own thread. A step is one training-mode forward of `model`.
"""

import torch
from torch import nn


def weighted_layers(model):
    """(name, weight) of each submodule that owns a `weight` parameter, in definition order."""
    return [(name or type(model).__name__, module.weight) for name, module in model.named_modules()
            if isinstance(getattr(module, "weight", None), nn.Parameter) and module.weight.requires_grad]


class GradientNorms:
    """Hooks that log ‖∂loss/∂W‖ for each layer every `every` steps to window `win` of `log`.

    x(step) maps the step number (1, 2, ...) to the window's x (default: the step itself);
    `last` holds the latest norms as tensors, {trace name: 0-d tensor}; remove() takes the hooks off.
    """

    def __init__(self, model, log=None, every=10, win="gradients", x=None, title=None, **opts):
        if not isinstance(every, int) or every < 1:
            raise ValueError(f"every={every!r}: use a positive integer (log every N steps)")
        layers = weighted_layers(model)
        if not layers:
            raise ValueError(f"{type(model).__name__} has no layer with a trainable `weight` to watch")
        self.log, self.every, self.win = log, every, win
        self.x = x or (lambda step: step)
        if log is not None:
            log.window(win, **dict(dict(title=title or "gradient norm per layer (‖∂loss/∂W‖, log scale)",
                                        xlabel="step", ylabel="L2 norm (log scale)", ytype="log"), **opts))
        self.names = [f"layer {i}" for i in range(1, len(layers) + 1)]
        self.layer_names = dict(zip(self.names, (name for name, _ in layers)))
        self.step, self.last, self._pending = 0, {}, {}
        self._handles = [model.register_forward_pre_hook(self._count)]
        self._handles += [weight.register_post_accumulate_grad_hook(self._record(name))
                          for name, (_, weight) in zip(self.names, layers)]

    def _count(self, module, inputs):
        if module.training:
            self.step += 1

    def _record(self, name):
        def hook(weight):
            if self.step % self.every or weight.grad is None:
                return
            # A 0-d tensor on the device: reading it here would sync; the logger reads it later.
            self._pending[name] = torch.linalg.vector_norm(weight.grad.detach())
            if len(self._pending) == len(self.names):
                self.last, self._pending = dict(sorted(self._pending.items(), key=self._order)), {}
                if self.log is not None:
                    self.log.scalars(self.win, self.x(self.step), self.last)
        return hook

    def _order(self, item):
        return self.names.index(item[0])

    def remove(self):
        for handle in self._handles:
            handle.remove()
        self._handles = []
