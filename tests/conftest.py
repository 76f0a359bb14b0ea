"""Shared fixtures: real Visdom servers on free 127.0.0.1 ports, real MNIST files."""

import os
import shutil
from pathlib import Path

import pytest
from visdom import Visdom

from vizlab.runner_kit.data import MNIST_FILES
from vizlab.server.process import VisdomServer


@pytest.fixture(scope="session")
def visdom_server(tmp_path_factory):
    """One real Visdom server for the whole session (tests use their own env names)."""
    with VisdomServer(env_path=tmp_path_factory.mktemp("visdom-env"),
                      log_path=tmp_path_factory.mktemp("logs") / "visdom.log") as srv:
        yield srv


@pytest.fixture
def viz(visdom_server):
    """A plain visdom client for reading windows back (`viz.get_window_data`).

    The server is private (vizlab's default); it lets this client in because the client's
    socket belongs to the same uid (vizlab/server/access.py). No token is needed on this machine."""
    return Visdom(server="http://127.0.0.1", port=visdom_server.port,
                  raise_exceptions=True, use_incoming_socket=False)


def _shared_mnist_raw():
    """The real MNIST files: $VIZLAB_DATA/MNIST/raw, else ../shared/data beside the checkout."""
    here = Path(__file__).resolve().parent.parent
    for root in (os.environ.get("VIZLAB_DATA"), here.parent / "shared" / "data"):
        if root and all((Path(root) / "MNIST" / "raw" / f).exists() for f in MNIST_FILES):
            return Path(root) / "MNIST" / "raw"
    return None


@pytest.fixture(scope="session")
def mnist_root(tmp_path_factory):
    """A writable data root holding a copy of the real MNIST .gz files (the source is read-only)."""
    raw = _shared_mnist_raw()
    if raw is None:
        message = "real MNIST files not found: set VIZLAB_DATA to a folder with MNIST/raw/*.gz"
        if os.environ.get("CI"):  # CI must exercise the real data, never skip it silently
            pytest.fail(message)
        pytest.skip(message)
    root = tmp_path_factory.mktemp("data")
    (root / "MNIST" / "raw").mkdir(parents=True)
    for name in MNIST_FILES:
        shutil.copy(raw / name, root / "MNIST" / "raw" / name)
    return root


SERVER_FIXTURES = {"visdom_server", "viz"}


def pytest_collection_modifyitems(items):
    """A test that takes a server fixture needs a server: mark it so (`make test-fast` skips
    the marked ones); modules that start their own servers carry the mark themselves."""
    for item in items:
        if SERVER_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.server)
