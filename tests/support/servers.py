"""Servers to compare against: stock Visdom started the way vizlab starts its own."""

from contextlib import contextmanager
from unittest import mock

from vizlab.server import process as vserver
from vizlab.server.process import VisdomServer

STUB = "def install(*args, **options):\n    pass\n"


@contextmanager
def stock_server(tmp_path, **kwargs):
    """A VisdomServer without vizlab's patches (no fast appends, no batch endpoint, no access
    checks, visdom's own page script, no runs page)."""
    stub = tmp_path / "stock_patch.py"
    stub.write_text(STUB)
    with mock.patch.object(vserver, "FAST_APPEND", stub), mock.patch.object(vserver, "ACCESS", stub), \
            mock.patch.object(vserver, "BATCH", stub), mock.patch.object(vserver, "PAGE_PATCH", stub), \
            mock.patch.object(vserver, "RUNS_PAGE", stub):
        srv = VisdomServer(log_path=tmp_path / "stock.log", **kwargs).start()
    try:
        yield srv
    finally:
        srv.stop()


def nested(depth, leaf=1):
    """`leaf` inside `depth` lists: JSON that some servers cannot serialize again (recursion)."""
    value = leaf
    for _ in range(depth):
        value = [value]
    return value
