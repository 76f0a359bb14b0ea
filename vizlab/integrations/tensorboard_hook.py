"""Make TensorBoard's writers vizlab's: after `install()`, `torch.utils.tensorboard.SummaryWriter` and
`tensorboardX.SummaryWriter` (and their `.writer` modules' SummaryWriter) are vizlab's SummaryWriter,
whenever the program imports them, before or after. So code written for TensorBoard, and frameworks
that open TensorBoard writers themselves (accelerate's `log_with="tensorboard"`, transformers'
`report_to="tensorboard"`, Lightning's TensorBoardLogger), draw in Visdom unchanged.

No sitecustomize and no monkeypatching by the user: a meta-path finder wraps the real modules'
loaders (the rest of each module is TensorBoard's own). `python -m vizlab.tensorboard script.py` runs a
program with it installed.
"""

import importlib.abc
import importlib.util
import sys

MODULES = ("torch.utils.tensorboard", "torch.utils.tensorboard.writer", "tensorboardX", "tensorboardX.writer")


def _swap(module):
    from vizlab.integrations.tensorboard import SummaryWriter
    module.SummaryWriter = SummaryWriter


class _Loader(importlib.abc.Loader):
    """The real loader, then SummaryWriter replaced."""

    def __init__(self, real):
        self.real = real

    def create_module(self, spec):
        return self.real.create_module(spec)

    def exec_module(self, module):
        self.real.exec_module(module)
        _swap(module)


class _Finder(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name not in MODULES:
            return None
        for finder in sys.meta_path:   # the real spec, from the finders after this one
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(name, path, target)
            if spec is not None:
                if spec.loader is not None and not isinstance(spec.loader, _Loader):
                    spec.loader = _Loader(spec.loader)
                return spec
        return None


def install():
    """Idempotent. Modules already imported are changed now, later imports as they load."""
    if not any(isinstance(f, _Finder) for f in sys.meta_path):
        sys.meta_path.insert(0, _Finder())
    for name in MODULES:
        if name in sys.modules:
            _swap(sys.modules[name])


def installed():
    return any(isinstance(f, _Finder) for f in sys.meta_path)
