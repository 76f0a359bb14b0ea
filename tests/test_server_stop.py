"""`vizlab serve --stop` signals only the server its pid file names, never a recycled pid."""

import os
import subprocess
import sys
import time

import pytest

from vizlab.server import process as server
from vizlab.server.process import state_paths, stop_detached

PORT = 1   # never a real server's port: these tests only write pid files


@pytest.fixture
def pid_file(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    path = state_paths(PORT)[1]
    path.parent.mkdir(parents=True)
    return path


@pytest.fixture
def spawn():
    """Start `python -c 'sleep' ARGS...` in its own session (as a detached server is); killed after."""
    started = []

    def start(*args):
        process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)", *args],
                                   start_new_session=True)
        started.append(process)
        return process
    yield start
    for process in started:
        process.kill()
        process.wait()


def test_an_unrelated_live_process_is_left_alone(pid_file, spawn):
    other = spawn()   # its command line has no visdom.server
    pid_file.write_text(str(other.pid))
    assert stop_detached(PORT) is False
    assert other.poll() is None and not pid_file.exists()


def test_a_visdom_process_started_after_the_pid_file_is_a_recycled_pid(pid_file, spawn):
    pid_file.write_text("0")
    old = time.time() - 60
    os.utime(pid_file, (old, old))
    newer = spawn("visdom.server")
    pid_file.write_text(str(newer.pid))
    os.utime(pid_file, (old, old))    # the file predates the process now holding that pid
    assert stop_detached(PORT) is False
    assert newer.poll() is None


def test_our_server_is_stopped_and_a_dead_pid_is_stale(pid_file, spawn):
    ours = spawn("visdom.server")
    pid_file.write_text(str(ours.pid))
    assert stop_detached(PORT, timeout=5) is True
    assert ours.wait(timeout=5) is not None and not pid_file.exists()
    pid_file.write_text(str(ours.pid))   # reaped: nothing runs under that pid now
    assert stop_detached(PORT) is False


def test_a_server_that_exits_while_being_stopped_counts_as_stopped(pid_file, spawn, monkeypatch):
    ours = spawn("visdom.server")
    pid_file.write_text(str(ours.pid))

    def gone(pid, sig):
        raise ProcessLookupError(pid)
    monkeypatch.setattr(server.os, "killpg", gone)
    assert stop_detached(PORT, timeout=1) is True
    assert not pid_file.exists()
