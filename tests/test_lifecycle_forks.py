"""Points logged in forked processes (os.fork, multiprocessing with fork, DataLoader workers)
reach the parent's journal and the server; children print nothing about the parent's journal."""

import json
import multiprocessing
import os
import pickle
import subprocess
import sys

import pytest
import torch
from torch.utils.data import DataLoader, Dataset

from vizlab import VisdomLogger
from vizlab import journal as journal_mod
from vizlab.server.process import free_port

pytestmark = pytest.mark.server   # starts or needs a real Visdom server

from support.windows import raw_traces


def journal_traces(path, win):
    """{trace: sorted xs} of window `win` in the journal."""
    traces = {}
    for record in journal_mod.read(path):
        if record["op"] == "scalars" and record["win"] == win:
            for trace in record["y"]:
                traces.setdefault(trace, []).append(record["x"])
    return {trace: sorted(xs) for trace, xs in traces.items()}


def server_traces(viz, env, win):
    data = json.loads(viz.get_window_data(win, env=env))["content"]["data"]
    return {t["name"]: sorted(t["x"]) for t in raw_traces(data)}


def check_everything_arrived(log, viz, env, expected):
    assert log.flush(timeout=60)
    log.close()
    assert journal_traces(log.journal_path, "w") == expected
    assert server_traces(viz, env, "w") == expected


@pytest.mark.timeout(180)
def test_os_fork_children_points_reach_journal_and_server(tmp_path, visdom_server, viz):
    log = VisdomLogger(env="lc_fork", port=visdom_server.port, journal=str(tmp_path / "j.jsonl"))
    log.window("w")
    log.scalar("w", 0, 0.0, trace="parent")
    pids = []
    for child in range(3):
        pid = os.fork()
        if pid == 0:   # the child: log, then end the way multiprocessing does (no atexit)
            try:
                for step in range(500):
                    log.scalar("w", step, float(step), trace=f"child{child}")
                log.text("note", f"child {child} done")
            finally:
                os._exit(0)
        pids.append(pid)
    assert all(os.waitpid(pid, 0)[1] == 0 for pid in pids)
    expected = {"parent": [0], **{f"child{c}": list(range(500)) for c in range(3)}}
    check_everything_arrived(log, viz, "lc_fork", expected)


def _pool_work(step):
    LOG.scalar("w", step, float(step) * 2, trace="pool")
    return os.getpid()


@pytest.mark.timeout(180)
def test_multiprocessing_pool_with_fork_points_reach_journal_and_server(tmp_path, visdom_server, viz):
    global LOG
    LOG = log = VisdomLogger(env="lc_pool", port=visdom_server.port, journal=str(tmp_path / "j.jsonl"))
    with multiprocessing.get_context("fork").Pool(3) as pool:   # __exit__ terminates: SIGTERM
        pids = set(pool.map(_pool_work, range(600), chunksize=10))
    assert len(pids) > 1 or os.cpu_count() == 1
    check_everything_arrived(log, viz, "lc_pool", {"pool": list(range(600))})
    (trace,) = raw_traces(json.loads(viz.get_window_data("w", env="lc_pool"))["content"]["data"])
    assert dict(zip(trace["x"], trace["y"])) == {s: s * 2.0 for s in range(600)}


class LoggingDataset(Dataset):
    def __init__(self, log):
        self.log = log

    def __len__(self):
        return 256

    def __getitem__(self, index):
        self.log.scalar("w", index, float(index), trace="worker")
        return torch.tensor([index], dtype=torch.float32)


@pytest.mark.timeout(180)
def test_dataloader_workers_points_reach_journal_and_server(tmp_path, visdom_server, viz):
    log = VisdomLogger(env="lc_loader", port=visdom_server.port, journal=str(tmp_path / "j.jsonl"))
    loader = DataLoader(LoggingDataset(log), batch_size=16, num_workers=2,
                        multiprocessing_context="fork")
    seen = sorted(int(v) for batch in loader for v in batch.reshape(-1))
    assert seen == list(range(256))
    check_everything_arrived(log, viz, "lc_loader", {"worker": list(range(256))})


CHILD_EXITS_NORMALLY = r"""
import os, sys
from vizlab import VisdomLogger
log = VisdomLogger(env="lc_exit", port=int(sys.argv[2]), journal=sys.argv[1], close_timeout=0.5)
log.window("w")
pid = os.fork()
if pid == 0:
    for step in range(100):
        log.scalar("w", step, float(step), trace="child")
    sys.exit(0)   # a normal exit: atexit runs in the child
_, status = os.waitpid(pid, 0)
assert status == 0, status
{grandchild}
"""

GRANDCHILD = r"""
pid = os.fork()
if pid == 0:
    grandchild = os.fork()
    if grandchild == 0:
        log.scalar("w", 0, 0.0, trace="grandchild")
        log.scalar("w", 1, 1.0, trace="grandchild")
        os._exit(0)
    os.waitpid(grandchild, 0)
    log.scalar("w", 0, 0.0, trace="middle")
    os._exit(0)
os.waitpid(pid, 0)
"""


@pytest.mark.timeout(180)
@pytest.mark.parametrize("nested", [False, True], ids=["child", "child-of-child"])
def test_forked_children_say_nothing_about_the_parents_journal(tmp_path, nested):
    """No server: the parent's close says its one closing line; its forked children,
    exiting normally, say nothing of it, and the journal holds their points. A child of a child
    is refused with one warning at its first call."""
    script, journal = tmp_path / "child.py", tmp_path / "j.jsonl"
    script.write_text(CHILD_EXITS_NORMALLY.format(grandchild=GRANDCHILD if nested else ""))
    done = subprocess.run([sys.executable, str(script), str(journal), str(free_port())],
                          capture_output=True, text=True, timeout=150)
    assert done.returncode == 0, done.stderr
    assert done.stderr.count("vizlab: closed env ") == 1, done.stderr   # the parent's closing line only
    assert "Traceback" not in done.stderr
    expected = {"child": list(range(100))}
    if nested:
        expected["middle"] = [0]
        assert done.stderr.count("forked from a forked process") == 1, done.stderr
    assert journal_traces(journal, "w") == expected


def test_a_logger_sent_to_another_process_is_refused_with_a_clear_message(tmp_path):
    log = VisdomLogger(env="lc_pickle", journal=str(tmp_path / "j.jsonl"), send=False)
    try:
        with pytest.raises(TypeError, match="cannot be pickled to another process"):
            pickle.dumps(log)
    finally:
        log.close()
