"""System panes: sampled on a background thread, read back from a real server with sane values."""

import psutil
import pytest

from vizlab import VisdomLogger

from test_serve import wait_until
from test_compare import traces

pytestmark = pytest.mark.server   # starts or needs a real Visdom server


def test_system_panes_show_cpu_and_memory(visdom_server, viz, tmp_path):
    env = "test_system"
    with VisdomLogger(env=env, port=visdom_server.port, journal=str(tmp_path / "j.jsonl")) as log:
        watcher = log.watch_system(every=0.1)
        assert watcher._thread.name == "vizlab-system"   # sampled off the calling thread
        assert wait_until(lambda: log.flush(timeout=5) and len(points(viz, env, "system_memory")) >= 3)
    assert wait_until(lambda: not watcher._thread.is_alive(), timeout=5)   # stops with the logger

    cpu = traces(viz, env, "system_cpu")
    assert {"process", "machine"} <= set(cpu)
    assert all(0 <= y <= 100 * psutil.cpu_count() for y in cpu["process"]["y"])
    assert all(0 <= y <= 100 for y in cpu["machine"]["y"])
    rss = points(viz, env, "system_memory")
    assert all(10 < y < psutil.virtual_memory().total / 2 ** 20 for y in rss)
    assert rss[-1] == pytest.approx(psutil.Process().memory_info().rss / 2 ** 20, rel=0.5)
    xs = traces(viz, env, "system_cpu")["process"]["x"]
    assert xs == sorted(xs) and xs[0] > 0   # seconds since the watch started


def test_every_must_be_positive(tmp_path):
    with VisdomLogger(env="x", journal=str(tmp_path / "j.jsonl"), send=False) as log:
        with pytest.raises(ValueError, match="every=0"):
            log.watch_system(every=0)


def points(viz, env, win):
    try:
        return traces(viz, env, win)["process RSS"]["y"]
    except Exception:   # not there yet
        return []
