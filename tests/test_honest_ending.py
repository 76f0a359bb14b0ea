"""Issue 27 (nothing can be misreported, item 8) and issue 31 item 2, read back from real servers
and journals: a run whose journal lost calls never reads "finished" or "closed", flush() says
False, a runner exits non-zero; every run says where to watch at start and ends with ONE line of
URL and counts; a server behind at close is named by its windows; no closed logger talks."""

import re
import subprocess
import sys
import textwrap
import threading
import time

import pytest

from vizlab import VisdomLogger, landing
from vizlab import journal as journal_mod
from vizlab.connection import Connection
from support.servers import stock_server
from support.windows import page, points, window

pytestmark = pytest.mark.server   # starts or needs a real Visdom server


def pane(port, env):
    """(state, the pane's text without tags) of env's status window."""
    content = window(port, env, "status")["content"]
    state = re.search(r"data-state='([^']+)'", content).group(1)
    return state, re.sub(r"<[^>]+>", " ", content)


def failing(append):
    """Journal.append where every batch of calls raises, as every batch did on Python 3.13 (issue
    27 item 1); the start and status records still get through."""
    def append_or_fail(*args):
        if b'"op":"status"' in args[-1] or b'"op":"start"' in args[-1]:
            return append(*args)
        raise TypeError("'_thread._ThreadHandle' object is not callable (simulated)")
    return append_or_fail


def fail_batches(log):
    """The journal thread's batch handling raises from now on."""
    log._writer.journal.append = failing(log._writer.journal.append)


def closing_lines(err):
    return [line for line in err.splitlines() if line.startswith("vizlab: closed env ")]


def test_lost_calls_make_flush_false_and_the_pane_and_index_say_journal_incomplete(
        visdom_server, tmp_path, capfd):
    port, env, path = visdom_server.port, "hn_lost", tmp_path / "j.jsonl"
    log = VisdomLogger(env=env, port=port, journal=str(path), total_steps=100)
    log.scalar("loss", 0, 1.0)
    assert log.flush(timeout=30)
    fail_batches(log)
    for step in range(1, 101):
        log.scalar("loss", step, 1.0 / step)
    assert log.flush(timeout=30) is False             # was True with stats["unwritten"] == 100
    assert log.stats["unwritten"] == 100
    log.close()
    assert log.flush() is False
    state, text = pane(port, env)
    assert state == "finished, journal incomplete" and "it holds 1 of the 101 calls accepted" in text
    assert "color:#b8860b" in window(port, env, "status")["content"]   # a warning colour, not green
    journaled = [r for r in journal_mod.read(path) if r["op"] == "status"]
    assert journaled[-1]["state"] == "finished, journal incomplete"     # a replay says so too
    log._landing.thread.join()
    rows = landing.read_rows(Connection("127.0.0.1", port))
    assert rows[env]["state"] == "finished, journal incomplete"         # was "closed"
    line, = closing_lines(capfd.readouterr().err)
    assert f"101 calls accepted, journal incomplete: {path} holds 1 of them (100 never written" in line


def test_a_whole_run_reads_finished_and_says_start_and_end_in_one_line_each(visdom_server, tmp_path, capfd):
    port, env, path = visdom_server.port, "hn_whole", tmp_path / "j.jsonl"
    with VisdomLogger(env=env, port=port, journal=str(path)) as log:
        for step in range(157):
            log.scalar("loss", step, 1.0)
    url = f"http://127.0.0.1:{port}/env/{env}"
    err = capfd.readouterr().err.splitlines()
    assert err[0] == f"vizlab: env '{env}': watch at {url}; journal: {path}"
    assert err[1:] == [f"vizlab: closed env '{env}' ({url}): 157 calls accepted, 157 journaled "
                       f"({path}), 157 delivered"]   # was nothing at all when all went well
    assert pane(port, env)[0] == "finished"
    assert len(points(port, env, "loss")["value"]) == 157


def test_no_server_ends_saying_none_was_delivered(tmp_path, capfd):
    from vizlab.server.process import free_port
    port, path = free_port(), tmp_path / "j.jsonl"
    with VisdomLogger(env="hn_none", port=port, journal=str(path), close_timeout=1.0) as log:
        for step in range(157):
            log.scalar("loss", step, 1.0)
    line, = closing_lines(capfd.readouterr().err)
    assert "157 calls accepted, 157 journaled" in line and "none delivered" in line
    assert f"holds none of the run's 2 windows; replay: vizlab replay {path}" in line


RUNNER = textwrap.dedent("""
    import sys
    from vizlab import cli, journal

    append = journal.Journal.append
    def failing(self, data):   # every batch of calls fails, as on Python 3.13 (issue 27 item 1)
        if b'"op":"status"' in data or b'"op":"start"' in data:
            return append(self, data)
        raise TypeError("simulated")
    if sys.argv[1] == "fail":
        journal.Journal.append = failing
    sys.exit(cli.main(["run", "linear_regression", "--no-visdom", "--quiet", "--epochs", "5",
                       "--journal", sys.argv[2]]))
""")


@pytest.mark.parametrize("fault", ["none", "fail"])
def test_a_runner_that_lost_calls_exits_non_zero(tmp_path, fault):
    path = tmp_path / "j.jsonl"
    proc = subprocess.run([sys.executable, "-c", RUNNER, fault, str(path)], capture_output=True,
                          text=True, timeout=300)
    result = [line for line in proc.stdout.splitlines() if line.startswith("linear_regression: ")]
    assert len(result) == 1 and "windows:" not in result[0]   # the URL is in the logger's line
    line, = closing_lines(proc.stderr)
    if fault == "none":
        assert proc.returncode == 0, proc.stderr
        assert "none sent (send=False)" in line and "journal incomplete" not in line
        return
    assert proc.returncode == 1, proc.stderr                         # was 0
    assert "journal incomplete" in line
    assert "linear_regression: " in proc.stderr.splitlines()[-1] and "missing from the journal" in proc.stderr
    assert [r["state"] for r in journal_mod.read(path) if r["op"] == "status"][-1] == \
        "finished, journal incomplete"


def log_many_windows_and_close(srv, env, tmp_path):
    """1,000 windows logged to `srv`, closed with close_timeout 0.2 s; the logger's sender thread."""
    before = set(threading.enumerate())
    log = VisdomLogger(env=env, port=srv.port, journal=str(tmp_path / "j.jsonl"), close_timeout=0.2)
    sender, = [t for t in set(threading.enumerate()) - before if t.name == "vizlab-sender"]
    for i in range(1_000):
        log.scalar(f"w{i:04d}", 0, 1.0)
    log.close()
    return sender


def test_a_server_behind_at_close_is_named_by_windows_and_the_closed_logger_stays_silent(tmp_path, capfd):
    """1,000 windows on a stock server (one request per window) cannot all arrive in 0.2 s."""
    with stock_server(tmp_path) as srv:
        sender = log_many_windows_and_close(srv, "hn_behind", tmp_path)
        err = capfd.readouterr().err
        line, = closing_lines(err)
        assert "first 0 of" not in err
        behind = re.search(r"Visdom at \S+ (is behind on (\d+) of|lacks (\d+) of|holds none of) the "
                           r"run's 1001 windows", line)
        assert behind and ("none delivered" in line or "not all delivered" in line), line
        if behind.group(2) or behind.group(3):
            assert re.search(r"\('w\d{4}', 'w\d{4}', 'w\d{4}' and \d+ more", line), line
        state, text = pane(srv.port, "hn_behind")
        assert state == "finished, live view incomplete", text
        srv.stop()   # a sender still in a request must not talk about it
        deadline = time.monotonic() + 60
        while sender.is_alive() and time.monotonic() < deadline:
            sender.join(0.5)
        assert not sender.is_alive()
        assert capfd.readouterr().err == ""   # was "Visdom at ... is not answering (ConnectionError)..."


def test_a_closed_logger_stops_sending(tmp_path):
    """close() gives the server close_timeout; after it the sender ends its round (it went on
    posting every window the server lacked)."""
    with stock_server(tmp_path) as srv:
        sender = log_many_windows_and_close(srv, "hn_stops", tmp_path)
        sender.join(60)
        assert not sender.is_alive()
        assert len(page(srv.port, "hn_stops")) < 1_001


def test_vizlab_demo_fails_when_a_runner_lost_calls(tmp_path, visdom_server, monkeypatch, capsys):
    from vizlab import cli
    from vizlab.cli import run as vizlab_run

    monkeypatch.setattr(journal_mod.Journal, "append", failing(journal_mod.Journal.append))
    monkeypatch.setattr(vizlab_run, "DEMO_ARGS", {
        "linear_regression": ["--epochs", "7", "--quiet", "--journal", str(tmp_path / "demo.jsonl")]})
    assert cli.main(["demo", "--port", str(visdom_server.port)]) == 1   # was 0: `make demo` passed
    err = capsys.readouterr().err
    assert "journal incomplete" in err and "linear_regression stopped early" in err
    assert pane(visdom_server.port, "linear_regression")[0] == "finished, journal incomplete"
