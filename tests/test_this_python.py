"""The logger end to end on the Python running the suite (make test runs it on every Python CI
lists), against a Visdom server of this venv: the visdom setup.cfg picks for this Python, every
accepted call in the journal and on the server, the status pane "finished"."""

import re
import sys
from importlib.metadata import version

import pytest
import visdom

from vizlab import VisdomLogger, journal as journal_mod
from vizlab.server.process import VisdomServer
from support.windows import points, window

pytestmark = pytest.mark.server   # starts a real Visdom server

STEPS = 500
WINDOWS = ("loss", "accuracy", "lr")


def test_this_venv_has_the_visdom_setup_cfg_requires():
    """setup.cfg's install_requires pins visdom for every Python (constraints.txt the same)."""
    from importlib.metadata import requires
    wanted = [r for r in requires("vizlab") if r.startswith("visdom")]
    assert wanted == [f"visdom=={visdom.__version__}"] and version("visdom") == visdom.__version__, \
        (sys.version, wanted, visdom.__version__)


def test_every_call_is_in_the_journal_and_on_a_server_of_this_venv(tmp_path):
    journal = tmp_path / "j.jsonl"
    with VisdomServer(env_path=tmp_path / "env", log_path=tmp_path / "visdom.log") as server:
        assert server.python in (None, sys.executable)   # this venv's visdom serves it
        log = VisdomLogger(env="this_python", port=server.port, journal=str(journal), total_steps=STEPS)
        for step in range(STEPS):
            for i, win in enumerate(WINDOWS):
                log.scalar(win, step, float(step * (i + 1)))
        log.text("note", f"Python {sys.version.split()[0]}")
        assert log.flush(timeout=60)
        log.close()
        stats = log.stats
        accepted = STEPS * len(WINDOWS) + 1
        assert stats["accepted"] == stats["journaled"] == accepted, stats
        assert stats["unwritten"] == stats["dropped"] == stats["errors"] == 0, stats

        in_journal = {win: {} for win in WINDOWS}
        for r in journal_mod.read(str(journal)):   # batches expanded: one "scalars" per point
            if r["op"] == "scalars" and r["win"] in in_journal:
                in_journal[r["win"]][r["x"]] = r["y"]["value"]
        for i, win in enumerate(WINDOWS):
            want = {step: float(step * (i + 1)) for step in range(STEPS)}
            assert in_journal[win] == want
            assert points(server.port, "this_python", win) == {"value": want}
        assert f"Python {sys.version.split()[0]}" in window(server.port, "this_python", "note")["content"]
        status = window(server.port, "this_python", "status")["content"]
        assert re.search(r"data-state='(\w+)'", status).group(1) == "finished"
