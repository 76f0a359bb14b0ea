"""Shared fixtures: real Visdom servers on free 127.0.0.1 ports, real MNIST files."""

import pytest
from visdom import Visdom

from vizlab.server import VisdomServer


@pytest.fixture(scope="session")
def visdom_server(tmp_path_factory):
    """One real Visdom server for the whole session (tests use their own env names)."""
    with VisdomServer(env_path=tmp_path_factory.mktemp("visdom-env"),
                      log_path=tmp_path_factory.mktemp("logs") / "visdom.log") as srv:
        yield srv


@pytest.fixture
def viz(visdom_server):
    """A plain visdom client for reading windows back (`viz.get_window_data`)."""
    return Visdom(server="http://127.0.0.1", port=visdom_server.port,
                  raise_exceptions=True, use_incoming_socket=False)
