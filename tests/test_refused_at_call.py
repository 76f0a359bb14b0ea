"""Issue 27 items 6 and 7: what slipped past the call is refused there, naming the problem (meta
tensors, env names no file name can hold or no encoding can write); a journal record that fails
validation is skipped whole at replay, never half applied. Read back from journals and a server."""

import json

import pytest
import torch

from vizlab import VisdomLogger, cli
from vizlab import journal as journal_mod
from support.windows import points

pytestmark = pytest.mark.server   # starts or needs a real Visdom server


def meta(*shape):
    return torch.ones(*shape, device="meta")


CALLS = {   # every way a meta tensor can be handed to the logger
    "scalar y": lambda log: log.scalar("loss", 1, meta(())),
    "scalar x": lambda log: log.scalar("loss", meta(()).long(), 1.0),
    "scalars": lambda log: log.scalars("loss", 1, {"a": meta(())}),
    "line": lambda log: log.line("curve", [0, 1], {"a": meta(2)}),
    "images": lambda log: log.images("samples", meta(2, 1, 8, 8)),
    "labels": lambda log: log.images("samples", torch.rand(2, 1, 8, 8), labels=meta(2)),
    "figure": lambda log: log.figure("fig", [{"type": "bar", "y": meta(3)}]),
    "option": lambda log: log.window("loss", width=meta(())),
}


@pytest.mark.parametrize("call", CALLS, ids=list(CALLS))
def test_a_meta_tensor_is_refused_at_the_call_and_nothing_is_dropped_later(tmp_path, call):
    path = tmp_path / "j.jsonl"
    with VisdomLogger(env="rf_meta", journal=str(path), send=False) as log:
        log.scalar("loss", 0, 1.0)
        with pytest.raises(ValueError, match=r"meta tensor \(device='meta'\) has no values to log"):
            CALLS[call](log)
        log.scalar("loss", 2, 3.0)
    stats = log.stats
    assert stats["dropped"] == 0 and stats["errors"] == 0     # was: accepted, then dropped
    assert stats["accepted"] == stats["journaled"] == 2
    assert [(r["x"], r["y"]["value"]) for r in journal_mod.read(path) if r["op"] == "scalars"] == \
        [(0, 1.0), (2, 3.0)]


@pytest.mark.parametrize("env, says", [("a" * 250, "250 bytes in UTF-8"),
                                       ("数" * 100, "300 bytes in UTF-8"),
                                       ("run\udc80x", "not valid text")],
                         ids=["250-chars", "300-bytes-cjk", "lone-surrogate"])
def test_an_env_name_no_file_can_hold_is_a_value_error_about_the_name(tmp_path, monkeypatch, env, says):
    monkeypatch.chdir(tmp_path)   # the default journal path is runs/ENV-TIME.jsonl
    with pytest.raises(ValueError, match=says) as refused:
        VisdomLogger(env=env, send=False)
    message = str(refused.value)
    assert message.startswith("env=") and "journal" not in message.split(";")[0]
    assert not (tmp_path / "runs").exists() or not list((tmp_path / "runs").iterdir())


def test_the_longest_env_name_allowed_logs_and_reads_back(visdom_server, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    env = "数" * 66 + "ab"   # 200 bytes in UTF-8: the journal's default file name still fits
    with VisdomLogger(env=env, port=visdom_server.port) as log:
        log.scalar("loss", 0, 1.0)
        assert log.flush(timeout=30)
    assert points(visdom_server.port, env, "loss") == {"value": {0: 1.0}}
    assert [r["op"] for r in journal_mod.read(log.journal_path)][-1] == "status"
    with VisdomLogger(env="fine", send=False, journal=False) as log, \
            pytest.raises(ValueError, match="not valid text"):
        log.scalar("w\udc80", 0, 1.0)   # a window name too


BAD_RECORDS = {
    "string y": {"op": "scalars", "win": "loss", "x": 1000, "y": {"value": "abc"}},
    "one string among a batch": {"op": "points", "win": "loss", "x": [1000, 1001],
                                 "y": {"value": [1.0, "abc"]}},
    "string x in a batch": {"op": "points", "win": "loss", "x": [1000, "b"], "y": {"value": [1.0, 2.0]}},
    "a second trace bad": {"op": "scalars", "win": "loss", "x": 1000, "y": {"value": 1.0, "z": "abc"}},
}


@pytest.mark.parametrize("bad", BAD_RECORDS, ids=list(BAD_RECORDS))
def test_a_record_that_fails_validation_is_skipped_whole_at_replay(visdom_server, tmp_path, capsys, bad):
    path = tmp_path / "j.jsonl"
    with VisdomLogger(env="rf_journal", journal=str(path), send=False) as log:
        for step in range(1_000):
            log.scalar("loss", step, float(step))
    lines = path.read_bytes().splitlines(keepends=True)
    crafted = json.dumps(BAD_RECORDS[bad]).encode() + b"\n"
    path.write_bytes(b"".join(lines[:-1]) + crafted + lines[-1])   # before the final status record
    env = f"rf_replay_{list(BAD_RECORDS).index(bad)}"
    assert cli.main(["replay", str(path), "--port", str(visdom_server.port), "--env", env]) == 3
    assert f"line {len(lines)} (" in capsys.readouterr().err          # named as skipped
    assert points(visdom_server.port, env, "loss") == {"value": {s: float(s) for s in range(1_000)}}
