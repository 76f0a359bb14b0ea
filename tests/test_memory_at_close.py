"""What a closed logger gives back: the window model's points (made among the queued calls, they
would keep the memory those calls took), read with tracemalloc, not timed; and the journal thread
takes a long queue DRAIN_AT_MOST calls at a time, every call kept in order."""

import gc
import tracemalloc

import torch

from vizlab import VisdomLogger
from vizlab import journal as journal_mod
from vizlab.logger import writer as writer_mod
from vizlab.logger.records import Converter


def model_bytes(snapshot):
    """Bytes still allocated by the window model's code (its traces, buckets, smoothing)."""
    files = ("decimation.py", "windows.py", "smoothing.py")
    return sum(stat.size for stat in snapshot.statistics("filename")
               if stat.traceback[0].filename.endswith(files))


def test_close_gives_the_window_models_points_back(tmp_path):
    tracemalloc.start()
    try:
        log = VisdomLogger(env="mem", send=False, journal=str(tmp_path / "j.jsonl"), status=False,
                           max_points=2000)
        for i in range(30_000):
            log.scalar("loss", i, (i % 97) / 97)
            log.scalar("acc", i, (i % 89) / 89, trace=f"t{i % 3}")
        assert log.flush()
        gc.collect()
        during = model_bytes(tracemalloc.take_snapshot())
        log.close()
        gc.collect()
        after = model_bytes(tracemalloc.take_snapshot())
    finally:
        tracemalloc.stop()
    assert during > 200_000          # 4 traces and their companions, 2,000 points shown each
    assert after < during / 20, (during, after)
    # what the summary says of the model outlives it
    assert log.stats["decimated"][("loss", "value")] == (30_000, log.stats["decimated"][("loss", "value")][1])
    assert set(log.stats["decimated"]) == {("loss", "value"), ("acc", "t0"), ("acc", "t1"), ("acc", "t2")}


def test_a_long_queue_is_taken_a_batch_at_a_time_and_every_call_kept(tmp_path, monkeypatch):
    monkeypatch.setattr(writer_mod, "DRAIN_AT_MOST", 100)
    batches = []
    records = Converter.records
    monkeypatch.setattr(Converter, "records", lambda self, events: (batches.append(len(events)),
                                                                   records(self, events))[1])
    log = VisdomLogger(env="drain", send=False, journal=str(tmp_path / "j.jsonl"), status=False,
                       queue_size=10_000, interval=60)
    for i in range(1_005):
        log.scalar("loss", i, i / 2)
        if i % 250 == 0:   # image grids among them: their bytes leave the count as they are taken
            log.images("grid", torch.zeros(2, 1, 4, 4))
    assert log.flush(timeout=60)
    assert log._writer.queued_bytes == 0
    log.close()
    assert max(batches) == 100 and sum(batches) == 1_005 + 5
    xs = [x for r in journal_mod.read(str(tmp_path / "j.jsonl")) if r["op"] == "scalars" for x in [r["x"]]]
    assert xs == list(range(1_005))
