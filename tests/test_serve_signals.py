"""`vizlab serve` in the foreground (issue 27, finding 5): a signal at any moment of its start,
or once it runs, stops the Visdom child it started. Real processes, quietly and beside a
CPU-bound process; the bound on the ending is a hang detector, not a timing claim."""

import signal
import subprocess
import sys
import time

import psutil
import pytest

from vizlab.server.process import free_port, is_visdom

from support.processes import ended, load, pid_gone

pytestmark = pytest.mark.server   # starts real Visdom servers


def visdom_child(serve, timeout=120):
    """The Visdom server process that `serve` spawned, once it exists."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert serve.poll() is None, serve.communicate()
        children = psutil.Process(serve.pid).children()
        if children:
            return children[0]
        time.sleep(0.01)
    raise AssertionError("serve started no Visdom child")


@pytest.mark.timeout(300)
@pytest.mark.parametrize("kind", ["quiet", "loaded"])
@pytest.mark.parametrize("signame", ["SIGTERM", "SIGINT"])
@pytest.mark.parametrize("moment", ["spawned", "starting", "answering"])
def test_a_signal_during_or_after_the_start_stops_the_visdom_child(tmp_path, monkeypatch, kind,
                                                                   signame, moment):
    """moment "spawned": at once when the child exists; "starting": 0.5 s later (before 0.5 s
    of the child's start, a Visdom server does not answer: this left it running); "answering":
    once serve says where it is."""
    monkeypatch.setenv("HOME", str(tmp_path))   # ~/.vizlab and its token stay in tmp
    port = free_port()
    with load(kind):
        serve = subprocess.Popen([sys.executable, "-m", "vizlab.cli", "serve", "--port", str(port),
                                  "--env-path", str(tmp_path / "env")],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        child = None
        try:
            child = visdom_child(serve)
            if moment == "starting":
                time.sleep(0.5)   # the scenario: a signal this far into the start
            elif moment == "answering":
                assert "Visdom is running" in serve.stdout.readline()
            serve.send_signal(getattr(signal, signame))
            rc, err = ended(serve)
            assert pid_gone(child.pid), f"the Visdom child (pid {child.pid}) still runs: {err}"
        finally:
            if child is not None and child.is_running():
                child.kill()
            serve.kill()
            serve.communicate()
    assert not is_visdom(f"http://127.0.0.1:{port}")
    assert rc in (128 + signal.SIGTERM, 130), (rc, err)   # 130: Ctrl-C, as the CLI ends on it
    assert "Traceback" not in err, err
