"""Issue 18, findings 4 and 5: replay and compare keep what is valid in a damaged journal and
name what they skip; concurrent runs of one env each get a journal of their own."""

import glob
import json
import multiprocessing
import os

import pytest

from vizlab import VisdomLogger, cli
from vizlab import journal as journal_mod
from support.windows import points, raw_traces, window

pytestmark = pytest.mark.server   # starts or needs a real Visdom server

BAD_LINES = {   # what a damaged journal holds, by kind
    "garbage": b"this is not json\n",
    "binary": b"\x00\xff\xfe\x80 binary\n",
    "not-a-record": b"[1, 2, 3]\n",
    "unknown-op": b'{"op": "frobnicate", "win": "loss"}\n',
    "missing-key": b'{"op": "scalars", "win": "loss", "y": {"a": 1.0}}\n',
}


@pytest.fixture(scope="module")
def intact(tmp_path_factory):
    path = tmp_path_factory.mktemp("intact") / "run.jsonl"
    with VisdomLogger(env="flt_intact", journal=str(path), send=False) as log:
        log.window("empty", kind="line", title="declared, never a point")
        for step in range(300):
            log.scalars("loss", step, {"a": float(step)}, title="loss")   # one line per call
        log.text("note", "the end")
    return path


def damaged(intact, tmp_path, torn_tail=True):
    """The intact journal with every kind of bad line in the middle and a torn last line."""
    lines = intact.read_bytes().splitlines(keepends=True)
    bad = list(BAD_LINES.values())
    out = lines[:100] + bad + lines[100:]
    path = tmp_path / "damaged.jsonl"
    path.write_bytes(b"".join(out) + (b'{"op":"scalars","win":"loss","x":9' if torn_tail else b""))
    return path, [101 + i for i in range(len(bad))] + ([len(out) + 1] if torn_tail else [])


def test_replay_skips_each_bad_line_names_it_and_rebuilds_the_rest(intact, tmp_path, visdom_server, capsys):
    path, bad_numbers = damaged(intact, tmp_path)
    port = str(visdom_server.port)
    assert cli.main(["replay", str(intact), "--port", port, "--env", "flt_rp_intact"]) == 0
    assert cli.main(["replay", str(path), "--port", port, "--env", "flt_rp_damaged"]) == 3
    err = capsys.readouterr().err
    assert f"{path}: skipped {len(bad_numbers)} lines" in err
    for number in bad_numbers[:journal_mod.SHOW_SKIPPED]:
        assert f"line {number} (" in err
    assert "binary data" in err and "unknown op 'frobnicate'" in err
    assert "and 1 more" in err                             # past the first few, a count
    for win in ("loss", "note", "empty"):
        assert window(visdom_server.port, "flt_rp_damaged", win)["content"] == \
            window(visdom_server.port, "flt_rp_intact", win)["content"]
    assert points(visdom_server.port, "flt_rp_damaged", "loss")["a"] == {s: float(s) for s in range(300)}


def test_a_torn_last_line_is_named_not_skipped_silently(intact, tmp_path, visdom_server, capsys):
    path = tmp_path / "torn.jsonl"
    path.write_bytes(intact.read_bytes() + b'{"op":"scalars","win":"loss","x":9')
    lines = intact.read_bytes().count(b"\n")
    assert cli.main(["replay", str(path), "--port", str(visdom_server.port), "--env", "flt_rp_torn"]) == 3
    assert f"line {lines + 1} (a torn last line" in capsys.readouterr().err
    assert points(visdom_server.port, "flt_rp_torn", "loss")["a"] == {s: float(s) for s in range(300)}


def test_replay_of_a_file_with_no_record_is_exit_2_naming_file_and_line(tmp_path, capsys):
    path = tmp_path / "binary.jsonl"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    assert cli.main(["replay", str(path), "--port", "1"]) == 2
    err = capsys.readouterr().err
    assert str(path) in err and "line 1 (binary data" in err and err.count("\n") == 1


def test_compare_skips_bad_lines_and_draws_a_declared_window_with_no_point(intact, tmp_path, visdom_server, capsys):
    path, bad_numbers = damaged(intact, tmp_path)
    port = str(visdom_server.port)
    assert cli.main(["compare", str(intact), str(intact), "--port", port, "--env", "flt_cmp_intact"]) == 0
    assert cli.main(["compare", str(intact), str(path), "--port", port, "--env", "flt_cmp"]) == 3
    err = capsys.readouterr().err
    assert f"{path}: skipped {len(bad_numbers)} lines" in err and f"line {bad_numbers[0]} (not JSON)" in err
    shown = raw_traces(window(visdom_server.port, "flt_cmp", "loss")["content"]["data"])
    assert [t["x"] for t in shown] == [list(range(300))] * 2
    empty = window(visdom_server.port, "flt_cmp_intact", "empty")["content"]
    assert empty["layout"]["title"] in ("declared, never a point", {"text": "declared, never a point"})


def _one_run(directory, barrier, steps):
    os.chdir(directory)
    barrier.wait()
    with VisdomLogger(env="flt_same_env", send=False) as log:
        for step in range(steps):
            log.scalar("loss", step, float(os.getpid()))


def test_eight_runs_of_one_env_started_together_each_get_their_own_complete_journal(tmp_path):
    ctx = multiprocessing.get_context("fork")   # torch already imported: the 8 start at once
    for round_ in range(5):
        directory = tmp_path / f"round{round_}"
        directory.mkdir()
        barrier = ctx.Barrier(8)
        procs = [ctx.Process(target=_one_run, args=(str(directory), barrier, 2_000)) for _ in range(8)]
        for p in procs:
            p.start()
        for p in procs:
            p.join(120)
        assert [p.exitcode for p in procs] == [0] * 8
        journals = glob.glob(str(directory / "runs" / "*.jsonl"))
        assert len(journals) == 8
        pids = set()
        for path in journals:
            records = list(journal_mod.read(path))
            assert [r["op"] for r in records].count("start") == 1
            scalars = [r for r in records if r["op"] == "scalars"]
            assert [r["x"] for r in scalars] == list(range(2_000))
            assert len({r["y"]["value"] for r in scalars}) == 1    # one process's points only
            pids.add(scalars[0]["y"]["value"])
        assert len(pids) == 8
