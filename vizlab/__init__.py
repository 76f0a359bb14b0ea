"""vizlab: live Visdom dashboards for PyTorch training."""

__version__ = "0.1.0"

from vizlab.logger import VisdomLogger  # noqa: E402
from vizlab.server import VisdomServer  # noqa: E402

__all__ = ["VisdomLogger", "VisdomServer", "__version__"]
