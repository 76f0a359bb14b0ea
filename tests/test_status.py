"""The run status pane on a real server: running with an ETA mid-run, finished after close,
crashed with the message (a real process that raises), interrupted by SIGTERM or SIGINT; first
on the page; the same on replay; status=False draws none."""

import re
import signal
import subprocess
import sys
import textwrap

import pytest

from vizlab import VisdomLogger, Watchdog
from vizlab import journal as journal_mod
from vizlab.cli.replay import replay
from support.windows import page, window


def pane(port, env):
    """(state, the pane's text without tags) of env's status window."""
    content = window(port, env, "status")["content"]
    state = re.search(r"data-state='(\w+)'", content).group(1)
    return state, re.sub(r"<[^>]+>", " ", content).replace("&lt;", "<").replace("&#x27;", "'")


def test_running_with_eta_mid_run_then_finished(visdom_server, viz, tmp_path):
    port = visdom_server.port
    with VisdomLogger(env="st_run", port=port, journal=str(tmp_path / "j.jsonl"), total_steps=100) as log:
        log.window("loss", title="loss")
        for step in range(1, 26):
            log.scalar("loss", step, 1.0 / step)
        assert log.flush(timeout=30)
        for step in range(26, 51):
            log.scalar("loss", step, 1.0 / step)
        assert log.flush(timeout=30)
        state, text = pane(port, "st_run")
        assert state == "running"
        assert re.search(r"step\s+50\b", text) and "ETA" in text
        assert re.search(r"50%\|.*\| 50/100 \[\d\d:\d\d<\d\d:\d\d, [\d.,]+step/s\]", text), text
        assert list(page(viz, "st_run"))[:2] == ["status", "loss"]   # the pane comes first
    state, text = pane(port, "st_run")
    assert state == "finished" and "ETA" not in text and re.search(r"step\s+50\b", text)
    assert "50/100" in text


def test_replay_draws_the_final_pane_and_status_false_draws_none(visdom_server, viz, tmp_path):
    port, journal = visdom_server.port, tmp_path / "j.jsonl"
    with VisdomLogger(env="st_replay", port=port, journal=str(journal), total_steps=10) as log:
        for step in range(10):
            log.scalar("loss", step, float(step))
    replay(str(journal), port=port, env="st_replay_rp")
    assert window(port, "st_replay_rp", "status")["content"] == window(port, "st_replay", "status")["content"]

    with VisdomLogger(env="st_off", port=port, journal=str(tmp_path / "off.jsonl"), status=False) as log:
        log.scalar("loss", 0, float("nan"))
        log.scalar("loss", 1, 1.0)
    assert list(page(viz, "st_off")) == ["loss"]
    assert not [r for r in journal_mod.read(str(tmp_path / "off.jsonl")) if r["op"] == "status"]


CRASH = textwrap.dedent("""
    import sys, threading
    from vizlab import VisdomLogger
    log = VisdomLogger(env=sys.argv[2], port=int(sys.argv[1]), journal=sys.argv[3])
    for step in range(20):
        log.scalar("loss", step, 1.0)
    if sys.argv[4] == "thread":
        def work():
            raise RuntimeError("worker lost")
        t = threading.Thread(target=work, name="loader")
        t.start()
        t.join()
        log.close()
    else:
        raise ValueError("boom at step 19")
""")


@pytest.mark.parametrize("where, error", [("main", "ValueError: boom at step 19"),
                                          ("thread", "RuntimeError: worker lost (in thread 'loader')")])
def test_a_crash_is_shown_and_still_printed(visdom_server, tmp_path, where, error):
    env = f"st_crash_{where}"
    proc = subprocess.run([sys.executable, "-c", CRASH, str(visdom_server.port), env,
                           str(tmp_path / "j.jsonl"), where], capture_output=True, text=True, timeout=120)
    assert proc.returncode == (1 if where == "main" else 0), proc.stderr   # the exit status is Python's
    assert "Traceback (most recent call last)" in proc.stderr and error.split(" (in")[0] in proc.stderr
    state, text = pane(visdom_server.port, env)
    assert state == "crashed" and error in text, text
    assert re.search(r"step\s+19\b", text)


LOOP_CHILD = textwrap.dedent("""
    import sys, time
    from vizlab import VisdomLogger
    log = VisdomLogger(env=sys.argv[3], port=int(sys.argv[1]), journal=sys.argv[2], total_steps=10**9)
    step = 0
    while True:
        log.scalar("loss", step, 1.0)
        step += 1
        if step == 50:
            assert log.flush(timeout=30)
            print("ready", flush=True)
        time.sleep(0.001)   # a training step
""")


@pytest.mark.parametrize("signum, said", [(signal.SIGTERM, "signal SIGTERM"),
                                           (signal.SIGINT, "KeyboardInterrupt (SIGINT)")])
def test_a_signal_shows_interrupted(visdom_server, tmp_path, signum, said):
    env = f"st_term_{signum}"
    child = subprocess.Popen([sys.executable, "-c", LOOP_CHILD, str(visdom_server.port),
                              str(tmp_path / "j.jsonl"), env], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "ready"
        assert pane(visdom_server.port, env)[0] == "running"
        child.send_signal(signum)
        assert child.wait(timeout=60) == -signum   # the process ends as the signal would
    finally:
        child.kill()
        child.communicate()
    state, text = pane(visdom_server.port, env)
    assert state == "interrupted" and said in text, text


def test_bad_settings_name_the_problem():
    with pytest.raises(ValueError, match="total_steps=0"):
        VisdomLogger(send=False, journal=False, total_steps=0)
    with pytest.raises(TypeError, match="watchdog='on'"):
        VisdomLogger(send=False, journal=False, watchdog="on")
    with pytest.raises(TypeError, match="status=1"):
        VisdomLogger(send=False, journal=False, status=1)
    with pytest.raises(ValueError, match=r"Watchdog\(stall=-1\)"):
        Watchdog(stall=-1)
    with pytest.raises(ValueError, match=r"Watchdog\(spike_window=3\)"):
        Watchdog(spike_window=3)
    log = VisdomLogger(send=False, journal=False)
    with pytest.raises(ValueError, match="total_steps=2.5"):
        log.total_steps = 2.5
    log.total_steps = 7
    assert log.total_steps == 7
    log.close()
