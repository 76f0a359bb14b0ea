"""`vizlab serve` keeps every run it has a journal for: restarted, it rebuilds them (issue 30)."""

import json

import pytest
import torch
from visdom import Visdom

from vizlab import VisdomLogger, journal as journal_mod
from vizlab.cli import main
from vizlab.server import restore
from vizlab.server.process import VisdomServer, free_port, is_visdom, local_url, stop_detached
from support.windows import points
from test_serve import home  # noqa: F401  (the fixture: a private HOME, detached servers stopped after)

pytestmark = pytest.mark.server   # starts real Visdom servers


@pytest.fixture
def serve(home, tmp_path, capsys):
    """`vizlab serve --detach` (in-process) on one port: serve(*more args) -> its stdout."""
    port = free_port()
    home.append(port)

    def run(*args):
        code = main(["serve", "--detach", "--port", str(port), "--env-path", str(tmp_path / "envs"), *args])
        out, err = capsys.readouterr()
        assert code == 0, err
        return out
    run.port = port
    return run


def stop(port):
    assert main(["serve", "--stop", "--port", str(port)]) == 0
    assert not is_visdom(local_url(port))


def contents(port, env):
    """Every window of env as the server holds it, minus the fields it randomises."""
    viz = Visdom(port=port, raise_exceptions=True, use_incoming_socket=False)
    data = json.loads(viz.get_window_data(None, env=env))
    return {win: {k: v for k, v in w.items() if k not in ("contentID", "i")} for win, w in data.items()}


def journal_points(path, win, trace):
    """{x: y} of one trace as the journal recorded it (every raw point)."""
    out = {}
    for record in journal_mod.read(path):
        if record["op"] == "scalars" and record["win"] == win and trace in record["y"]:
            out[record["x"]] = journal_mod.decode_number(record["y"][trace])
    return out


def test_a_finished_run_survives_a_restart_without_a_replay(serve, tmp_path):
    serve()
    journal = tmp_path / "run.jsonl"
    with VisdomLogger(env="kept", port=serve.port, journal=str(journal), max_points=40,
                      config={"lr": 0.1, "seed": 3}) as log:
        for step in range(500):
            log.scalar("loss", step, 1.0 / (step + 1), trace="train")   # decimated at 40 shown
        log.images("samples", torch.rand(4, 1, 28, 28))
        log.text("notes", "done")
        assert log.flush(timeout=30)
    before = contents(serve.port, "kept")
    stop(serve.port)

    out = serve()
    assert "restored 1 run" in out
    assert contents(serve.port, "kept") == before   # every window, the status pane included
    assert set(before) >= {"status", "loss", "samples", "notes", "settings"}
    shown = points(serve.port, "kept", "loss")["train"]
    logged = journal_points(journal, "loss", "train")
    assert len(logged) == 500 and len(shown) <= 40 and all(logged[x] == y for x, y in shown.items())


def test_a_journal_that_grew_while_the_server_was_down_is_caught_up(serve, tmp_path):
    serve()
    journal = tmp_path / "run.jsonl"
    log = VisdomLogger(env="grew", port=serve.port, journal=str(journal), close_timeout=1.0)
    for step in range(100):
        log.scalar("loss", step, float(step), trace="train")
    assert log.flush(timeout=30)
    stop(serve.port)
    for step in range(100, 250):   # the server is down: only the journal has these
        log.scalar("loss", step, float(step), trace="train")
    log.close()

    serve()
    assert points(serve.port, "grew", "loss")["train"] == journal_points(journal, "loss", "train")
    assert len(journal_points(journal, "loss", "train")) == 250


def test_logdir_runs_are_restored_and_live_runs_left_to_their_logger(serve, tmp_path):
    logs = tmp_path / "logs" / "sweep"
    with VisdomLogger(env="offline", journal=str(logs / "a.jsonl"), send=False) as log:
        for step in range(30):
            log.scalar("acc", step, step / 30, trace="val")
    with VisdomLogger(env="elsewhere", journal=str(tmp_path / "more" / "b.jsonl"), send=False) as log:
        log.scalar("acc", 0, 0.5, trace="val")
    serve()
    live = VisdomLogger(env="live", port=serve.port, journal=str(tmp_path / "live.jsonl"))
    try:
        for step in range(50):
            live.scalar("loss", step, float(step), trace="train")
        assert live.flush(timeout=30)
        stop(serve.port)

        out = serve("--logdir", str(tmp_path / "logs"), "--logdir", str(tmp_path / "more"))   # repeatable
        assert "restored 2 runs" in out and "1 still logging" in out
        assert points(serve.port, "elsewhere", "acc")["val"] == {0.0: 0.5}
        assert points(serve.port, "offline", "acc")["val"] == journal_points(logs / "a.jsonl", "acc", "val")
        for step in range(50, 60):
            live.scalar("loss", step, float(step), trace="train")
        assert live.flush(timeout=30)   # the live logger resent its own windows
        assert points(serve.port, "live", "loss")["train"] == {float(s): float(s) for s in range(60)}
    finally:
        live.close()


def test_each_round_restores_only_what_is_new_and_missing(home, tmp_path):
    logs = tmp_path / "logs"
    for name in ("one", "two"):
        with VisdomLogger(env=name, journal=str(logs / f"{name}.jsonl"), send=False) as log:
            log.scalar("x", 0, 1.0)
    with VisdomServer(env_path=tmp_path / "envs") as srv:
        seen = {}
        first = restore.restore(srv.port, [str(logs)], only_missing=True, seen=seen)
        assert first.runs == 2
        assert restore.restore(srv.port, [str(logs)], only_missing=True, seen=seen).runs == 0
        with VisdomLogger(env="three", journal=str(logs / "three.jsonl"), send=False) as log:
            log.scalar("x", 0, 3.0)
        assert restore.restore(srv.port, [str(logs)], only_missing=True, seen=seen).runs == 1
        assert points(srv.port, "three", "x") == {"value": {0: 3.0}}
