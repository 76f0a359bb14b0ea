"""The journal thread alone, against a fake journal (no disk, no server): what it writes, in which
order, what it counts when the disk takes only part of a batch, and that stop() drains everything.
The real disk's faults are in test_faults_disk.py; the sender against a fake Visdom in
test_liveview_appends.py."""

import ast
import errno
import json
import pathlib
import threading

import pytest

import vizlab
from vizlab.logger.notices import Notices
from vizlab.logger.writer import JournalThread
from vizlab.windows import Windows


class FakeJournal:
    """Journal.append's contract: whole lines, (lines written, OSError or None). `room` lines
    fit before the disk is full (None: no limit)."""

    path = "/fake/journal.jsonl"

    def __init__(self, room=None):
        self.lines, self.room, self.closed = [], room, False

    def append(self, data):
        lines = data.decode().splitlines()
        fit = lines if self.room is None else lines[:max(0, self.room - len(self.lines))]
        self.lines += fit
        if len(fit) < len(lines):
            return len(fit), OSError(errno.ENOSPC, "No space left on device")
        return len(fit), None

    def offset(self):
        return sum(len(line) + 1 for line in self.lines)

    def close(self):
        self.closed = True

    def records(self):
        return [json.loads(line) for line in self.lines]


def journal_thread(journal, queue_size=1000):
    model = Windows("e", 100)
    thread = JournalThread(journal, model, threading.Lock(), Notices(), queue_size, interval=0.05)
    thread.start()
    return thread, model


def points(records, win):
    """(x, y) of trace v of `win`, in journal order (a batch of one point is a "scalars" record)."""
    out = []
    for r in records:
        if r["win"] == win and r["op"] == "points":
            out += zip(r["x"], r["y"]["v"])
        elif r["win"] == win and r["op"] == "scalars":
            out.append((r["x"], r["y"]["v"]))
    return out


def test_every_call_is_written_in_order_and_the_model_gets_it():
    journal = FakeJournal()
    thread, model = journal_thread(journal)
    for step in range(500):
        thread.put(("scalars", "loss", step, {"v": float(step)}, {}))
        if step == 250:
            thread.put(("text", "note", "half way", {}))
    assert thread.wait_written(thread.enqueued, timeout=30)
    records = journal.records()
    assert points(records, "loss") == [(s, float(s)) for s in range(500)]
    ops = [r["op"] for r in records]
    assert ops.index("text") > 0 and ops.count("text") == 1   # the text between the batches
    xs, _ = model.windows["loss"].traces["v"].shown()   # decimated to max_points=100, whole run
    assert len(xs) <= 100 and xs[0] == 0 and xs[-1] == 499
    assert thread.journaled == thread.enqueued == 501 and thread.missed == 0
    thread.stop()
    assert journal.closed


def test_a_record_json_cannot_hold_is_dropped_alone():
    journal = FakeJournal()
    thread, _ = journal_thread(journal)
    thread.put(("scalars", "a", 0, {"v": 1.0}, {}))
    thread.put(("text", "bad", "x", {"title": object()}))     # past the call's checks: unencodable
    thread.put(("scalars", "a", 1, {"v": 2.0}, {}))
    thread.stop()
    assert points(journal.records(), "a") == [(0, 1.0), (1, 2.0)]
    assert thread.counts.dropped == 1 and thread.journaled == 2


def test_a_full_disk_is_counted_and_the_model_still_gets_everything():
    journal = FakeJournal(room=3)
    thread, model = journal_thread(journal)
    for step in range(40):
        thread.put(("scalars", f"w{step % 8}", step, {"v": 1.0}, {}))
        if step % 8 == 7:
            assert thread.wait_written(thread.enqueued, timeout=30)   # one batch per 8 calls
    thread.stop()
    assert len(journal.lines) == 3
    assert thread.journaled + thread.missed == 40 and thread.missed > 0
    assert thread.incomplete is not None
    assert sum(len(w.traces["v"].shown()[0]) for w in model.windows.values()) == 40


def test_stop_drains_the_queue_and_later_calls_raise():
    journal = FakeJournal()
    thread, _ = journal_thread(journal)
    for step in range(2000):
        thread.put(("scalars", "loss", step, {"v": 0.5}, {}))
    thread.stop()
    assert len(points(journal.records(), "loss")) == 2000 and not thread.queue
    with pytest.raises(RuntimeError, match="closed"):
        thread.put(("scalars", "loss", 2000, {"v": 0.5}, {}))


def test_a_caller_faster_than_the_thread_waits_and_loses_nothing():
    journal = FakeJournal()
    thread, _ = journal_thread(journal, queue_size=10)
    for step in range(300):
        thread.put(("scalars", "loss", step, {"v": 0.5}, {}))
    thread.stop()
    assert len(points(journal.records(), "loss")) == 300
    assert thread.waits > 0     # the queue of 10 was full at least once: the caller waited


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")   # on purpose
def test_an_error_escaping_a_batch_stops_the_thread_and_nothing_reads_as_written(capfd):
    """What Python 3.13 did to the thread when it subclassed Thread (its `_handle` was hidden by
    Thread's own): every batch failed. Now the first such error stops the thread, the calls it
    held are never counted written, waiting for them says False at once, later calls raise."""
    journal = FakeJournal()
    thread, _ = journal_thread(journal)

    def broken(events):
        raise TypeError("'_thread._ThreadHandle' object is not callable")

    thread._take_batch = broken
    for step in range(100):
        thread.put(("scalars", "loss", step, {"v": 0.5}, {}))
    assert not thread.wait_written(thread.enqueued, timeout=30)
    thread.join(30)
    assert not thread.is_alive() and thread.written == 0 and journal.closed
    assert not thread.wait_written(thread.enqueued, timeout=0)
    with pytest.raises(RuntimeError, match="journal thread stopped"):
        thread.put(("scalars", "loss", 100, {"v": 0.5}, {}))
    assert "journal thread stopped (TypeError" in capfd.readouterr().err


def test_no_class_of_vizlab_subclasses_thread():
    """A subclass shares Thread's namespace, which grows with each Python (3.13 added `_handle`);
    vizlab's threads hold one instead (vizlab.logger.background)."""
    root = pathlib.Path(vizlab.__file__).parent
    found = []
    for path in root.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ClassDef):
                bases = [ast.unparse(base) for base in node.bases]
                found += [f"{path.relative_to(root)}: {node.name}({b})" for b in bases
                          if b.split(".")[-1] in {"Thread", "Timer"}]
    assert found == []
