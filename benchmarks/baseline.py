"""Run the logger with the window model and sender of an earlier commit, for before/after figures.

`use_revision(REV)` loads vizlab/windows.py and vizlab/logger/sender.py as they were at REV (git show)
and makes new `VisdomLogger`s use them; everything else is the current tree.
"""

import importlib.util
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _load(rev, path, name, folder):
    source = subprocess.run(["git", "-C", str(ROOT), "show", f"{rev}:{path}"], check=True,
                            capture_output=True, text=True).stdout
    file = Path(folder) / (name + ".py")
    file.write_text(source)
    spec = importlib.util.spec_from_file_location(name, file)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def use_revision(rev):
    """Patch vizlab.logger.visdom_logger to build its model and sender from `rev`; returns a description."""
    from vizlab.logger import visdom_logger as logger
    folder = tempfile.mkdtemp(prefix="vizlab-baseline-")
    windows = _load(rev, "vizlab/windows.py", "vizlab_windows_" + rev.replace("~", "_"), folder)
    sender = _load(rev, "vizlab/logger/sender.py", "vizlab_sender_" + rev.replace("~", "_"), folder)
    logger.Windows, logger.Sender = windows.Windows, sender.Sender
    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", rev], check=True,
                            capture_output=True, text=True).stdout.strip()
    return f"windows.py and sender.py of {commit}"


def use_current():
    from vizlab import windows
    from vizlab.logger import visdom_logger as logger
    from vizlab.logger import sender
    logger.Windows, logger.Sender = windows.Windows, sender.Sender
    return "the current tree"
