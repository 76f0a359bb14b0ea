"""vizlab: live Visdom dashboards for PyTorch training."""

__version__ = "0.1.0"

__all__ = ["SummaryWriter", "Visdom", "VisdomLogger", "VisdomServer", "Watchdog", "__version__"]


def __getattr__(name):
    # Imported on first use: the logger pulls in torch (seconds), which the
    # `vizlab assets` / `vizlab serve` commands never need.
    if name == "VisdomLogger":
        from vizlab.logger import VisdomLogger
        return VisdomLogger
    if name == "SummaryWriter":
        from vizlab.integrations.tensorboard import SummaryWriter
        return SummaryWriter
    if name == "Visdom":   # visdom.Visdom's drop-in (visdom imports torch when it is there)
        from vizlab.integrations.visdom_client import Visdom
        return Visdom
    if name == "Watchdog":
        from vizlab.status import Watchdog
        return Watchdog
    if name == "wandb":   # wandb's API (vizlab.wandb); torch only when used
        import importlib
        return importlib.import_module("vizlab.wandb")
    if name == "VisdomServer":
        from vizlab.server import VisdomServer
        return VisdomServer
    raise AttributeError(f"module 'vizlab' has no attribute {name!r}")
