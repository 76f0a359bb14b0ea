"""SIGTERM/SIGHUP mid-loop: the journal holds every accepted call, the server gets them, the
process ends as the signal would, and a handler the user installed still runs."""

import json
import mmap
import signal
import struct
import subprocess
import sys
import time

import pytest
from visdom import Visdom

from vizlab import journal as journal_mod

from support.windows import raw_traces

pytestmark = pytest.mark.server   # starts or needs a real Visdom server

# The child counts its accepted calls in a shared 8-byte file after each call returns, so a
# kill between the call and the count makes the journal hold one call more, never fewer.
CHILD = r"""
import mmap, os, signal, struct, sys, time
from vizlab import VisdomLogger

journal, port, speed, handler, counter, marker, signame = sys.argv[1:8]
signum = getattr(signal, signame)

def mine(num, frame):
    open(marker, "w").write(str(num))
    if handler == "later":
        previous(num, frame)   # a framework that chains to the handler it replaced
        os._exit(5)
    sys.exit(3)

if handler == "before":
    signal.signal(signum, mine)
count = mmap.mmap(os.open(counter, os.O_RDWR), 8)
log = VisdomLogger(env="lc_sig", port=int(port), journal=journal, close_timeout=60,
                   send=port != "0")
if handler == "later":
    previous = signal.signal(signum, mine)
log.window("w")
i = 0
while True:
    log.scalar("w", i, float(i))
    i += 1
    struct.pack_into("q", count, 0, i)
    if speed == "slow":
        time.sleep(0.001)
"""


def run_until_signal(tmp_path, port, speed, handler="none", signame="SIGTERM", after=2000):
    """Start the child, send it the signal once it accepted `after` calls; -> (rc, accepted, journal)."""
    script, journal, counter = tmp_path / "child.py", tmp_path / "run.jsonl", tmp_path / "count"
    script.write_text(CHILD)
    counter.write_bytes(b"\0" * 8)
    marker = tmp_path / "handler-ran"
    child = subprocess.Popen([sys.executable, str(script), str(journal), str(port), speed, handler,
                              str(counter), str(marker), signame], stderr=subprocess.PIPE, text=True)
    with open(counter, "rb") as f:
        count = mmap.mmap(f.fileno(), 8, access=mmap.ACCESS_READ)
        while struct.unpack_from("q", count)[0] < after and child.poll() is None:
            time.sleep(0.05)
        child.send_signal(getattr(signal, signame))
        _, err = child.communicate(timeout=120)
        accepted = struct.unpack_from("q", count)[0]
    xs = [r["x"] for r in journal_mod.read(journal) if r["op"] == "scalars"]
    assert xs == list(range(len(xs))), "the journal holds the calls in order, none twice"
    assert accepted <= len(xs) <= accepted + 1, (accepted, len(xs), err)
    assert "Traceback" not in err or signame == "SIGINT", err
    return child.returncode, marker.exists(), err


@pytest.mark.timeout(300)
@pytest.mark.parametrize("speed", ["slow", "fast"])
def test_sigterm_mid_loop_keeps_every_call_and_ends_killed_by_sigterm(tmp_path, speed):
    rc, _, _ = run_until_signal(tmp_path, 0, speed, after=2000 if speed == "slow" else 50_000)
    assert rc == -signal.SIGTERM


@pytest.mark.timeout(300)
def test_sighup_closes_the_logger_and_the_server_gets_every_point(tmp_path, visdom_server):
    rc, _, _ = run_until_signal(tmp_path, visdom_server.port, "slow", signame="SIGHUP", after=1500)
    assert rc == -signal.SIGHUP
    xs = [r["x"] for r in journal_mod.read(tmp_path / "run.jsonl") if r["op"] == "scalars"]
    viz = Visdom(port=visdom_server.port, raise_exceptions=True, use_incoming_socket=False)
    (trace,) = raw_traces(json.loads(viz.get_window_data("w", env="lc_sig"))["content"]["data"])
    assert trace["x"] == xs   # close() delivered everything before the process ended


@pytest.mark.timeout(300)
@pytest.mark.parametrize("speed", ["slow", "fast"])
def test_a_handler_installed_before_the_logger_still_runs_and_decides(tmp_path, speed):
    rc, ran, err = run_until_signal(tmp_path, 0, speed, handler="before",
                                    after=2000 if speed == "slow" else 50_000)
    assert ran and rc == 3   # the user's handler ran and ended the process its way
    assert "journal incomplete" not in err and " journaled (" in err   # the closing line: all kept


@pytest.mark.timeout(300)
def test_a_handler_installed_later_that_chains_to_ours_gets_a_flushed_journal(tmp_path):
    rc, ran, _ = run_until_signal(tmp_path, 0, "fast", handler="later", after=50_000)
    assert ran and rc == 5   # it ended the process with os._exit: nothing ran at exit


@pytest.mark.timeout(300)
def test_sigint_works_as_before_keyboardinterrupt_then_close_at_exit(tmp_path):
    rc, _, err = run_until_signal(tmp_path, 0, "fast", signame="SIGINT", after=50_000)
    assert rc == -signal.SIGINT and "KeyboardInterrupt" in err   # Python re-sends it at exit


def test_an_ignored_signal_stays_ignored(tmp_path):
    code = ("import signal; signal.signal(signal.SIGHUP, signal.SIG_IGN)\n"
            "from vizlab import VisdomLogger\n"
            f"log = VisdomLogger(env='lc_ign', journal={str(tmp_path / 'j.jsonl')!r}, send=False)\n"
            "assert signal.getsignal(signal.SIGHUP) is signal.SIG_IGN\n"
            "assert signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL\n"
            "log.close()\n")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
