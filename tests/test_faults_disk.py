"""Issue 18, finding 3: the journal on a real small tmpfs that fills and frees, and journal paths
that cannot be written. Mounting needs root: elsewhere these tests skip and say why."""

import json
import os
import subprocess

import pytest

from vizlab import VisdomLogger, cli
from vizlab.journal import JournalUnwritable
from support.disk import fill
from support.windows import points

pytestmark = pytest.mark.server   # starts or needs a real Visdom server


def mount_tmpfs(where, options="size=1m"):
    where.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(where)],
                          capture_output=True, text=True)
    if done.returncode:
        pytest.skip(f"cannot mount a tmpfs here ({done.stderr.strip() or 'mount refused'}); "
                    "the full-disk tests need root")
    return where


@pytest.fixture
def small_disk(tmp_path):
    yield mount_tmpfs(tmp_path / "disk")
    subprocess.run(["umount", "-l", str(tmp_path / "disk")])


def lines_and_skipped(path):
    """(records, numbers of the lines that are not JSON), read without vizlab's reader."""
    records, skipped = [], []
    with open(path, "rb") as f:
        for number, line in enumerate(f, 1):
            try:
                records.append(json.loads(line))
            except ValueError:
                skipped.append(number)
    return records, skipped


def test_a_disk_that_fills_and_frees_keeps_whole_lines_and_the_live_view_complete(
        small_disk, visdom_server, capfd):
    path = small_disk / "run.jsonl"
    env = "flt_disk_full"
    log = VisdomLogger(env=env, port=visdom_server.port, journal=str(path))
    log.window("loss", kind="line")
    for step in range(2_000):
        log.scalars("loss", step, {"a": float(step), "b": -float(step)})
    assert log.flush(timeout=30)
    fill(small_disk / "filler")
    for step in range(2_000, 4_000):
        log.scalars("loss", step, {"a": float(step), "b": -float(step)})
    assert log.flush(timeout=30)                       # the live view does not wait for the disk
    os.remove(small_disk / "filler")
    for step in range(4_000, 6_000):
        log.scalars("loss", step, {"a": float(step), "b": -float(step)})
    log.close()
    stats = log.stats
    records, skipped = lines_and_skipped(path)
    assert skipped == []                               # never a spliced or torn line
    xs = [x for r in records if r["op"] in ("scalars", "points") for x in
          (r["x"] if r["op"] == "points" else [r["x"]])]
    assert xs == sorted(xs) and set(range(2_000)) <= set(xs) and set(range(4_000, 6_000)) <= set(xs)
    assert stats["journal_missed"] == 6_000 - len(xs) > 0
    assert stats["accepted"] == stats["journaled"] + stats["journal_missed"] == 6_001
    shown = points(visdom_server.port, env, "loss")
    assert shown["a"] == {s: float(s) for s in range(6_000)}
    err = capfd.readouterr().err
    assert err.count("it is incomplete from window 'loss'") == 1
    assert err.count("is written again; it misses") == 1
    assert f"holds {stats['journaled']} of them ({stats['journal_missed']} missed the journal" in err
    assert "Traceback" not in err
    assert cli.main(["replay", str(path), "--port", str(visdom_server.port), "--env", "flt_disk_replay"]) == 0
    assert points(visdom_server.port, "flt_disk_replay", "loss")["a"] == {x: float(x) for x in xs}


def test_a_disk_still_full_at_close_is_counted_not_a_traceback(small_disk, capfd):
    path = small_disk / "run.jsonl"
    log = VisdomLogger(env="flt_disk_stays_full", journal=str(path), send=False)
    log.scalar("loss", 0, 0.0)
    assert log.flush()
    fill(small_disk / "filler")
    for step in range(1, 30_000):
        log.scalar("loss", step, float(step))
    log.close()
    err = capfd.readouterr().err
    stats = log.stats
    assert stats["journal_missed"] > 0 and stats["accepted"] == stats["journaled"] + stats["journal_missed"]
    assert "Traceback" not in err and "missed the journal" in err
    assert lines_and_skipped(path)[1] == []


def test_read_only_and_impossible_journal_paths_fail_at_construction_naming_the_path(tmp_path):
    read_only = mount_tmpfs(tmp_path / "ro", "size=64k,ro")
    try:
        blocker = tmp_path / "a-file"
        blocker.write_text("not a folder")
        for path in (read_only / "run.jsonl", read_only / "missing" / "run.jsonl",
                     blocker / "run.jsonl", tmp_path):
            with pytest.raises(JournalUnwritable, match="journal=False") as caught:
                VisdomLogger(env="flt_ro", journal=str(path), send=False)
            assert str(path) in str(caught.value)
            assert isinstance(caught.value, OSError)
    finally:
        subprocess.run(["umount", "-l", str(read_only)])


def test_a_disk_full_at_construction_is_the_same_one_error(small_disk):
    fill(small_disk / "filler")
    with pytest.raises(JournalUnwritable, match="No space left"):
        VisdomLogger(env="flt_full_start", journal=str(small_disk / "run.jsonl"), send=False)
