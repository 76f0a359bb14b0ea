"""What keeps the journal thread cheap must not change what it keeps: a batch of points written by
orjson reads back as the json module's line would (and what orjson refuses goes through json);
log.scalar's queued calls and the window model's buckets are objects the garbage collector
untracks (a long run adds up to no full collection over the process); close() gives the C heap
back once a long queue drained, and where the C library cannot, says nothing. A journal written
today reads, in vizlab as it was before (46a1acc's whole tree), to the same records."""

import gc
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

from vizlab import VisdomLogger
from vizlab import journal as journal_mod
from vizlab.decimation import Trace
from vizlab.logger import closing, heap


def json_line(record):
    return json.dumps(record, separators=(",", ":"), allow_nan=False) + "\n"


@pytest.mark.parametrize("ys", [
    [0.1, 1e-7, 1e16, -2.5e-300, 1.7976931348623157e308, 5.0, 0.30000000000000004, 3, -0.0],
    [1, "nan", "inf", "-inf", None],
])
def test_a_batch_of_points_reads_back_as_the_json_modules_line(ys):
    record = {"op": "points", "win": "loss é", "x": list(range(len(ys))), "y": {"value ✓": ys}}
    line = journal_mod.encode(record)
    assert line.endswith(b"\n") and line.count(b"\n") == 1
    back = json.loads(line)
    assert back == json.loads(json_line(record)) == record
    assert [type(v) for v in back["y"]["value ✓"]] == [type(v) for v in ys]   # 5.0 stays a float
    assert all(math.copysign(1, a) == math.copysign(1, b) for a, b in zip(back["y"]["value ✓"], ys)
               if isinstance(a, float))


def test_vizlab_before_this_change_reads_todays_journal_to_the_same_records(tmp_path):
    """46a1acc (the default --before of the benchmarks) from its own tree, in a child process."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
    try:
        import baseline
        old = baseline.tree("46a1acc")
    except SystemExit:
        pytest.skip("46a1acc is not in this checkout's history")
    finally:
        sys.path.pop(0)
    path = str(tmp_path / "j.jsonl")
    log = VisdomLogger(env="compat", send=False, journal=path, status=False)
    for i in range(5000):
        log.scalar("loss é", i, math.nan if i % 997 == 5 else 0.5 + i * 1e-7)
        if i % 3 == 0:
            log.scalars("acc", i, {"train ✓": i / 7, "val": i % 5})
    log.text("note", "<p>done</p>")
    log.close()
    read = "import json, sys; from vizlab import journal; print(json.dumps(list(journal.read(sys.argv[1]))))"
    done = subprocess.run([sys.executable, "-c", read, path], capture_output=True, text=True, timeout=300,
                          env=dict(os.environ, PYTHONPATH=old), cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout) == json.loads(json.dumps(list(journal_mod.read(path))))


def test_what_orjson_refuses_goes_through_json():
    big = {"op": "points", "win": "w", "x": [2**70, 2**70 + 1], "y": {"v": [1.0, 2.0]}}
    assert journal_mod.encode(big) == json_line(big).encode()
    lone = {"op": "points", "win": "w\udc80", "x": [1], "y": {"v": [1.0]}}   # a lone surrogate
    assert journal_mod.encode(lone) == json_line(lone).encode()
    with pytest.raises(ValueError):   # NaN outside a batch: refused, never written as null
        journal_mod.encode({"op": "figure", "win": "f", "traces": [{"y": [math.nan]}]})


def test_queued_scalar_calls_and_buckets_are_untracked_by_the_gc(tmp_path):
    log = VisdomLogger(env="gc", send=False, journal=str(tmp_path / "j.jsonl"), status=False, interval=60)
    try:
        for i in range(100):   # fewer than WAKE_AT: they wait in the queue for the next round
            log.scalar("loss", i, i / 3)
        gc.collect()
        queued = list(log._writer.queue)[1:]   # the window's first call takes the checked way
        assert len(queued) == 99 and not any(map(gc.is_tracked, queued))
    finally:
        log.close()
    trace = Trace(100)
    trace.extend(list(range(5000)), [float(i % 7) for i in range(5000)])
    trace.take_new()
    gc.collect()
    assert trace.decimated and trace.buckets and not any(map(gc.is_tracked, trace.buckets.values()))


def test_close_trims_the_heap_after_a_long_queue_only(tmp_path, monkeypatch):
    trims = []
    monkeypatch.setattr(heap, "trim", lambda: trims.append(1))
    for calls in (10, 20_000):
        log = VisdomLogger(env="trim", send=False, journal=str(tmp_path / f"{calls}.jsonl"), status=False,
                           interval=60)
        for i in range(calls):
            log.scalar("loss", i, 0.5)
        log.close()
        assert len(trims) == (calls > 4096), calls
    assert closing.heap is heap


def test_trim_without_malloc_trim_does_nothing(monkeypatch):
    class NoTrim:
        def __init__(self, name):
            pass

    monkeypatch.setattr(heap.ctypes, "CDLL", NoTrim)
    assert heap.trim() is False


def test_a_batchs_finite_check_sends_every_doubtful_batch_to_the_slow_check():
    from vizlab.windows import _finite_numbers

    assert _finite_numbers([1, 2.5, -0.0]) and _finite_numbers(list(range(10)))
    for values in ([1.0, math.inf], [math.nan, 2], [1e308, 1e308], [10**400, 1.5], [1, "nan"], [True]):
        assert not _finite_numbers(values), values
