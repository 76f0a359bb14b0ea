"""Issue 10 point 4: visdom 0.3 moves to a free port when the asked one is taken; vizlab notices."""

import pytest

from test_visdom03 import python03  # noqa: F401  (fixture: the visdom 0.3 interpreter)
from vizlab import VisdomServer
from vizlab.server.process import ServerError, _spawn, _wait_until_answers, listening_ports

pytestmark = pytest.mark.server   # starts or needs a real Visdom server


def test_our_server_listens_on_its_port():
    with VisdomServer() as srv:
        assert srv.port in listening_ports(srv.process.pid)


def test_a_moved_03_server_is_never_reported_on_the_asked_port(python03, tmp_path):  # noqa: F811
    # Another Visdom server holds the port, so it even answers there: the race that
    # check_port_free cannot close (the port taken between the check and visdom's bind).
    with VisdomServer() as other:
        child = _spawn(other.port, "127.0.0.1", tmp_path / "env", False, tmp_path / "v03.log",
                       python=python03)
        try:
            with pytest.raises(ServerError, match=f"port {other.port} was taken, so the Visdom "
                                                  "server went to port"):
                _wait_until_answers(child, other.port, 60, tmp_path / "v03.log")
        finally:
            child.kill()
            child.wait()
