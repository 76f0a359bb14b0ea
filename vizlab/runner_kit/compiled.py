"""`--compile`: the MNIST training step compiled with torch.compile and, on CUDA, captured as one CUDA graph.

On a GPU the MLP is launch-bound (dozens of tiny kernels a step), so the whole step (batch gather
from the on-device data set, forward, backward, SGD-momentum update, cosine learning rate) becomes
one graph replay. Everything a replay changes lives in fixed tensors on the device: the epoch's
batch order, a batch counter, the step count the learning rate is computed from, the momentum
buffers. The step's loss is a fixed tensor too, overwritten by the next replay: log it with
VisdomLogger.scalar, which clones it on the caller's stream, i.e. before the next replay runs.
"""

import contextlib
import math

import torch
import torch.nn.functional as F


class CompiledSGDTrainer:
    """SGD with momentum (as torch.optim.SGD: buf = m*buf + g; p -= lr*buf) and an optional cosine
    decay (as CosineAnnealingLR to 0 over `total_steps`), one call of `step()` per batch.

    Batches: call `new_epoch(batches)` with the epoch's index tensors (all of `batch_size`, e.g.
    vizlab.runner_kit.data.shuffled_batches without its short last batch), then `step()` once per batch.
    """

    def __init__(self, model, train_x, train_y, batch_size, steps_per_epoch, lr, momentum, total_steps,
                 cosine=True):
        device = train_x.device
        self.model, self.train_x, self.train_y = model, train_x, train_y
        self.momentum, self.base_lr, self.total_steps, self.cosine = momentum, lr, total_steps, cosine
        self.params = [p for p in model.parameters() if p.requires_grad]
        self.buffers = [torch.zeros_like(p) for p in self.params]
        self.order = torch.zeros(steps_per_epoch, batch_size, dtype=torch.long, device=device)
        self.batch = torch.zeros((), dtype=torch.long, device=device)  # index into self.order
        self.steps_done = torch.zeros((), dtype=torch.float32, device=device)  # for the schedule
        # torch.compile sees one fixed-shape graph; "default" mode, since the CUDA graph is ours.
        self._loss = torch.compile(self._loss_of_batch)
        self._update = torch.compile(self._sgd_update)
        self.graph = None
        self._warm_up_and_capture()

    def _loss_of_batch(self):
        # The gather is part of the step; index_select, not x[idx], so nothing reads the index on the host.
        idx = self.order.index_select(0, self.batch.view(1)).view(-1)
        x, y = self.train_x.index_select(0, idx), self.train_y.index_select(0, idx)
        return F.cross_entropy(self.model(x), y)

    @torch.no_grad()
    def _sgd_update(self):
        lr = self.base_lr
        if self.cosine:  # CosineAnnealingLR's closed form, computed on the device
            lr = lr * 0.5 * (1 + torch.cos(math.pi * self.steps_done / self.total_steps))
        for p, buf in zip(self.params, self.buffers):
            buf.mul_(self.momentum).add_(p.grad)
            p.sub_(lr * buf)
        self.steps_done += 1
        self.batch += 1

    def _eager_step(self):
        loss = self._loss()
        for p in self.params:
            p.grad = None
        loss.backward()
        self._update()
        return loss.detach()

    def _warm_up_and_capture(self):
        """Compile now (a few steps, on a side stream as CUDA graph capture requires), record one step
        as a CUDA graph on CUDA, then undo the warm-up steps: training starts from the initial state."""
        state = self.params + self.buffers + [self.steps_done, self.batch]
        saved = [t.detach().clone() for t in state]
        cuda = self.train_x.device.type == "cuda"
        side = torch.cuda.Stream() if cuda else None
        if cuda:
            side.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(side) if cuda else contextlib.nullcontext():
            for _ in range(3):
                self.batch.zero_()
                self._eager_step()
        if cuda:
            torch.cuda.current_stream().wait_stream(side)
            self.graph = torch.cuda.CUDAGraph()
            with torch.cuda.graph(self.graph):
                self.static_loss = self._eager_step()
        with torch.no_grad():
            for t, s in zip(state, saved):
                t.copy_(s)

    def new_epoch(self, batches):
        """Load the epoch's batch order (index tensors of equal length) into the fixed buffer."""
        self.order.copy_(torch.stack(list(batches)))
        self.batch.zero_()

    def step(self):
        """One training step; the loss as a 0-d tensor (under CUDA graphs, the next step overwrites it)."""
        if self.graph is None:
            return self._eager_step()
        self.graph.replay()
        return self.static_loss
