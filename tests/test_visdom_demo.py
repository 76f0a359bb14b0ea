"""Issue 28: a raw Visdom program on `vizlab serve` gets exactly the windows it gets on stock
Visdom: Visdom's own example/demo.py against both, env `main` compared window by window (vizlab's
runs index lives in its own env, never in `main`)."""

import signal
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from support.servers import stock_server
from support.windows import page
from test_server_access import home  # noqa: F401 (fixture: a temporary HOME)
from test_server_privacy import wait_for
from vizlab import landing
from vizlab.server.process import free_port, is_visdom

pytestmark = pytest.mark.server   # starts real Visdom servers


OFFLINE_DEMO = r"""
import pathlib, runpy, socket, sys
def local(host):
    return str(host) in ("localhost", "::1") or str(host).startswith("127.")
real_getaddrinfo, real_connect = socket.getaddrinfo, socket.socket.connect
def getaddrinfo(host, *args, **kwargs):
    if not local(host):
        raise socket.gaierror(f"offline: {host}")
    return real_getaddrinfo(host, *args, **kwargs)
def connect(self, address):
    if self.family in (socket.AF_INET, socket.AF_INET6) and not local(address[0]):
        raise OSError(f"offline: {address[0]}")
    return real_connect(self, address)
socket.getaddrinfo, socket.socket.connect = getaddrinfo, connect
demo = sys.argv[1]
sys.path.insert(0, str(pathlib.Path(demo).parent))
sys.argv = [demo] + sys.argv[2:]
runpy.run_path(demo, run_name="__main__")
"""


def visdom_demo():
    """Visdom's own example/demo.py (v0.2.4; in neither its wheel nor its sdist), vendored under
    tests/third_party/visdom_example (Apache 2.0)."""
    return Path(__file__).resolve().parent / "third_party" / "visdom_example" / "demo.py"


def demo_windows(port, demo):
    """Run the demo against the server on `port` with no traffic off the loopback (its video and
    audio downloads skip themselves); [(position, type, title)] of env main."""
    done = subprocess.run([sys.executable, "-c", OFFLINE_DEMO, str(demo), "-port", str(port),
                           "-server", "http://127.0.0.1"], input="\n", capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0 and "experienced an exception" not in done.stdout, done.stdout[-2000:]
    return [(w["i"], w["type"], w.get("title")) for w in page(port, "main").values()]


@pytest.mark.slow
def test_visdoms_own_demo_gets_the_windows_it_gets_on_stock_visdom(home, tmp_path):
    """Before: on `vizlab serve` the demo's page had an extra `index` pane in main and every
    window's position shifted by one (55 windows instead of stock's 54)."""
    demo = visdom_demo()
    with stock_server(tmp_path) as stock:
        stock_windows = demo_windows(stock.port, demo)
    port = free_port()
    serve = subprocess.Popen([sys.executable, "-m", "vizlab.cli", "serve", "--port", str(port),
                              "--env-path", str(tmp_path / "env")], stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True)
    try:
        wait_for(lambda: serve.poll() is None and is_visdom(f"http://127.0.0.1:{port}"),
                 what="vizlab serve")
        index = {"win": landing.INDEX_WIN, "eid": landing.INDEX_ENV}
        wait_for(lambda: requests.post(f"http://127.0.0.1:{port}/win_exists", json=index).text == "true",
                 what="the runs index")   # serve has written its panes: none of them in main
        served_windows = demo_windows(port, demo)
    finally:
        serve.send_signal(signal.SIGTERM)
        serve.wait(timeout=60)
    assert len(stock_windows) == 54
    assert served_windows == stock_windows
