"""The logger at real scale: journal first, bounded close, backpressure, resume, isolated faults."""

import json
import os
import signal
import subprocess
import sys
import threading
import time

import pytest
from visdom import Visdom

from vizlab import VisdomLogger, VisdomServer
from vizlab import connection as connection_mod
from vizlab import journal as journal_mod
from vizlab.cli.replay import replay

pytestmark = pytest.mark.server   # starts or needs a real Visdom server


def reader(port):
    return Visdom(port=port, raise_exceptions=True, use_incoming_socket=False)


def trace_points(port, env, win, trace="value"):
    data = json.loads(reader(port).get_window_data(win, env=env))
    (t,) = [t for t in data["content"]["data"] if t["name"] == trace]
    return t["x"], t["y"]


def journal_points(path, win="loss", trace="value"):
    return [(r["x"], r["y"][trace]) for r in journal_mod.read(path)
            if r["op"] == "scalars" and r["win"] == win]


def test_journal_offset_and_resume_continue_the_windows(visdom_server, tmp_path):
    path, port = str(tmp_path / "j.jsonl"), visdom_server.port
    log = VisdomLogger(env="sc_resume", port=port, journal=path)
    for step in range(10):
        log.scalar("loss", step, float(step))
    offset = log.journal_offset()
    assert offset == os.path.getsize(path)
    for step in range(10, 15):            # logged after the checkpoint: dropped on resume
        log.scalar("loss", step, -1.0)
    log.close()
    with VisdomLogger(env="sc_resume", port=port, journal=path, resume_from=offset) as log:
        for step in range(10, 20):
            log.scalar("loss", step, float(step))
        assert log.flush(timeout=20)
    expected = [(s, float(s)) for s in range(20)]
    assert list(zip(*trace_points(port, "sc_resume", "loss"))) == expected
    assert journal_points(path) == expected
    starts = [r for r in journal_mod.read(path) if r["op"] == "start"]
    assert [s.get("resume", False) for s in starts] == [False, True]
    replay(path, port=port, env="sc_resume_replayed")     # a resume continues, not resets
    assert list(zip(*trace_points(port, "sc_resume_replayed", "loss"))) == expected


def test_resume_and_offset_errors_are_clear(tmp_path):
    with pytest.raises(ValueError, match="no journal at"):
        VisdomLogger(journal=str(tmp_path / "missing.jsonl"), resume_from=0, send=False)
    path = tmp_path / "j.jsonl"
    path.write_text('{"op":"start","env":"main"}\n')
    with pytest.raises(ValueError, match="between 0 and the journal's size"):
        VisdomLogger(journal=str(path), resume_from=10_000, send=False)
    with pytest.raises(ValueError, match="not the end of a record"):
        VisdomLogger(journal=str(path), resume_from=3, send=False)
    with VisdomLogger(journal=False, send=False) as log, pytest.raises(RuntimeError, match="no journal"):
        log.journal_offset()


def test_frozen_server_close_is_bounded_and_the_journal_complete(tmp_path):
    path = str(tmp_path / "j.jsonl")
    with VisdomServer(env_path=tmp_path / "env") as srv:
        log = VisdomLogger(env="sc_frozen", port=srv.port, journal=path, interval=0.05)
        for step in range(1000):
            log.scalar("loss", step, float(step))
        assert log.flush(timeout=20)
        os.kill(srv.process.pid, signal.SIGSTOP)
        try:
            for step in range(1000, 3000):
                log.scalar("loss", step, float(step))
            closing = threading.Thread(target=log.close, daemon=True)
            closing.start()
            closing.join(timeout=30)   # generous: close() gives up after close_timeout (3 s)
            assert not closing.is_alive(), "close() waits for a hung server"
            assert journal_points(path) == [(s, float(s)) for s in range(3000)]
        finally:
            os.kill(srv.process.pid, signal.SIGCONT)
        replay(path, port=srv.port, env="sc_frozen_replayed")
        assert trace_points(srv.port, "sc_frozen_replayed", "loss")[0] == list(range(3000))


def test_fast_producer_waits_and_loses_nothing(visdom_server, tmp_path):
    path, n = str(tmp_path / "j.jsonl"), 60_000
    log = VisdomLogger(env="sc_fast", port=visdom_server.port, journal=path, queue_size=1000,
                       max_points=n + 10)
    for step in range(n):
        log.scalar("loss", step, step * 0.5)
    assert log.flush(timeout=60)
    assert log.stats["dropped"] == 0 and log.stats["waits"] > 0
    log.close()
    assert trace_points(visdom_server.port, "sc_fast", "loss")[0] == list(range(n))
    assert journal_points(path) == [(s, s * 0.5) for s in range(n)]
    batched = [r for r in journal_mod.read(path, expand=False) if r["op"] == "points"]
    assert batched and max(len(r["x"]) for r in batched) > 100   # one line per burst


def test_threads_logging_at_once_lose_and_reorder_nothing(visdom_server, tmp_path):
    log = VisdomLogger(env="sc_threads", port=visdom_server.port, journal=str(tmp_path / "j.jsonl"),
                       queue_size=500)

    def work(trace):
        for step in range(5000):
            log.scalar("loss", step, float(step), trace=trace)

    threads = [threading.Thread(target=work, args=(t,)) for t in ("train", "eval", "test")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert log.flush(timeout=60)
    log.close()
    for trace in ("train", "eval", "test"):
        assert trace_points(visdom_server.port, "sc_threads", "loss", trace)[0] == list(range(5000))


@pytest.mark.parametrize("batches", [True, False], ids=["batched", "one-per-request"])
def test_a_refused_window_does_not_delay_the_others(visdom_server, tmp_path, monkeypatch, capfd, batches):
    real_post, real_batch = connection_mod.Connection.post, connection_mod.Connection.post_batch

    def post(self, endpoint, message):
        if message.get("win") == "bad":
            raise connection_mod.ServerRefused(f"{self.url}/{endpoint} answered HTTP 500", 500)
        return real_post(self, endpoint, message)

    def post_batch(self, items):   # the server refuses "bad" inside the batch, takes the others
        replies = iter(real_batch(self, [(e, m) for e, m in items if m.get("win") != "bad"]))
        return [(500, "") if m.get("win") == "bad" else next(replies) for _, m in items]

    monkeypatch.setattr(connection_mod.Connection, "post", post)
    monkeypatch.setattr(connection_mod.Connection, "post_batch", post_batch)
    monkeypatch.setattr(connection_mod.Connection, "takes_batches", lambda self: batches)
    log = VisdomLogger(env=f"sc_refused_{batches}", port=visdom_server.port, journal=str(tmp_path / "j.jsonl"),
                       interval=0.05)
    log.text("bad", "refused by the server")
    for step in range(20):
        log.scalar("good", step, float(step))
    deadline, x = time.monotonic() + 10, None
    while time.monotonic() < deadline:   # the good window arrives in the normal interval
        if reader(visdom_server.port).win_exists("good", env=f"sc_refused_{batches}"):
            x = trace_points(visdom_server.port, f"sc_refused_{batches}", "good")[0]
            if x == list(range(20)):
                break
        time.sleep(0.05)
    assert x == list(range(20))
    assert not log.flush(timeout=1)        # the refused window is not on the server: no early True
    log.close()
    assert log.stats["refused"] >= 2       # retried with backoff
    assert "window 'bad'" in capfd.readouterr().err


CHILD = """
import sys, time
from vizlab import VisdomLogger
log = VisdomLogger(env="sc_kill", port=int(sys.argv[2]), journal=sys.argv[1])
step = 0
while True:
    log.scalar("loss", step, float(step))
    step += 1
    if step % 1000 == 0:
        print(step, flush=True)
        time.sleep(0.001)
"""


@pytest.mark.slow
def test_sigkilled_training_process_journal_replays_all_but_the_last_interval(visdom_server, tmp_path):
    path = str(tmp_path / "j.jsonl")
    child = subprocess.Popen([sys.executable, "-c", CHILD, path, str(visdom_server.port)],
                             stdout=subprocess.PIPE, text=True)
    try:
        reported = 0
        while reported < 50_000:
            reported = int(child.stdout.readline())
        # The promise is about time: what was logged a flush interval (0.5 s) before the kill
        # is in the journal. Wait longer than that, then kill.
        time.sleep(1.0)
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
        child.stdout.close()
    points = journal_points(path)
    assert len(points) >= reported
    assert points == [(s, float(s)) for s in range(len(points))]
    replay(path, port=visdom_server.port, env="sc_kill_replayed")
    x, _ = trace_points(visdom_server.port, "sc_kill_replayed", "loss")
    assert x[-1] == len(points) - 1


def test_every_distinct_problem_is_reported_and_repeats_are_rate_limited(capfd):
    from vizlab.logger.notices import Notices

    notices = Notices()
    for _ in range(3):
        notices.report("a", "problem a")
        notices.report("b", "problem b")
    err = capfd.readouterr().err
    assert err.count("problem a") == 1 and err.count("problem b") == 1
