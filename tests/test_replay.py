"""`vizlab replay` rebuilds, on a fresh server, exactly the windows the live run built."""

import json
import subprocess
import sys

import numpy as np
import pytest
import torch
from visdom import Visdom

from vizlab import VisdomLogger, VisdomServer, cli
from vizlab.cli.replay import replay
from vizlab.server.process import free_port

pytestmark = pytest.mark.server   # starts or needs a real Visdom server

ENV = "rp_run"
WINDOWS = ["status", "loss", "long", "samples", "notes", "bars", "curve"]


def log_a_run(log):
    for step in range(120):
        log.scalars("loss", step, {"train": 1.0 / (step + 1), "val": float("nan") if step == 7 else step * 0.1})
        log.scalar("long", step, float(np.sin(step)), trace="t")   # decimated: max_points=40
    log.images("samples", torch.rand(6, 1, 28, 28), labels=[1, 2, 3, 4, 5, 6], preds=[1, 2, 0, 4, 5, 6])
    log.text("notes", "first")
    log.text("notes", "second")                                   # replace: the last one wins
    log.figure("bars", [{"type": "bar", "x": ["a", "b"], "y": [1, 2]}], {"title": "bars"}, width=500, height=300)
    log.line("curve", [0, 1, 2], {"a": [3.0, 2.0, 1.0]}, linecolor=(255, 0, 0), dash="dash")
    log.scalar("curve", 3, 0.5, trace="a")


def contents(port, env):
    """Every window's data, minus the fields the server randomises per request."""
    viz = Visdom(port=port, raise_exceptions=True, use_incoming_socket=False)
    out = {}
    for win in WINDOWS:
        data = json.loads(viz.get_window_data(win, env=env))
        out[win] = {k: v for k, v in data.items() if k not in ("contentID", "i")}
    return out


@pytest.fixture(scope="module")
def live_run(tmp_path_factory):
    """A run logged live to its own server: (journal path, the windows it built)."""
    tmp = tmp_path_factory.mktemp("replay")
    with VisdomServer(env_path=tmp / "env") as srv:
        with VisdomLogger(env=ENV, port=srv.port, journal=str(tmp / "run.jsonl"), max_points=40) as log:
            log_a_run(log)
            assert log.flush(timeout=20)
        return tmp / "run.jsonl", contents(srv.port, ENV)


def test_replay_cli_onto_a_fresh_server_gives_equal_windows(live_run, tmp_path):
    journal, original = live_run
    assert len(original["long"]["content"]["data"][0]["x"]) <= 40
    with VisdomServer(env_path=tmp_path / "env") as fresh:
        result = subprocess.run([sys.executable, "-m", "vizlab.cli", "replay", str(journal),
                                 "--port", str(fresh.port)], capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stdout + result.stderr
        assert f"-> {len(WINDOWS)} windows" in result.stdout
        assert contents(fresh.port, ENV) == original


def test_cli_and_replay_never_import_torch(live_run, visdom_server):
    """torch + torchvision cost seconds to import; `vizlab --help` and `vizlab replay` need neither."""
    journal, original = live_run
    script = ("import sys; from vizlab import cli; cli.build_parser(); "
              f"code = cli.main(['replay', {str(journal)!r}, '--port', '{visdom_server.port}', '--env', 'rp_light']); "
              "print(code, 'torch' in sys.modules, 'torchvision' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert result.stdout.splitlines()[-1] == "0 False False", result.stdout + result.stderr
    assert contents(visdom_server.port, "rp_light") == original


def test_replay_into_another_env(live_run, visdom_server):
    journal, original = live_run
    assert replay(journal, port=visdom_server.port, env="rp_other") == (120 * 2 + 6, len(WINDOWS))
    assert contents(visdom_server.port, "rp_other") == original


def test_journal_written_with_no_server_replays_the_same(live_run, visdom_server, tmp_path):
    _, original = live_run
    path = tmp_path / "offline.jsonl"
    torch.manual_seed(0)
    with VisdomLogger(env=ENV, journal=str(path), send=False, max_points=40) as log:
        log_a_run(log)
    replay(path, port=visdom_server.port, env="rp_offline")
    rebuilt = contents(visdom_server.port, "rp_offline")
    for win in ("loss", "long", "notes", "bars", "curve"):   # images hold other random pixels
        assert rebuilt[win] == original[win]


def test_torn_last_line_is_skipped(live_run, visdom_server, tmp_path):
    journal, original = live_run
    torn = tmp_path / "torn.jsonl"
    torn.write_text(journal.read_text() + '{"op":"scalars","win":"loss","x":9')
    replay(torn, port=visdom_server.port, env="rp_torn")
    assert contents(visdom_server.port, "rp_torn") == original


@pytest.mark.parametrize("case,code,message", [
    ("missing", 2, "no journal at"),
    ("down", 1, "no Visdom server answers"),
    ("bad-env", 2, "--env"),
    ("garbage", 2, "not a vizlab journal record"),
])
def test_cli_errors_are_clear(live_run, tmp_path, capsys, case, code, message):
    journal, _ = live_run
    garbage = tmp_path / "garbage.jsonl"
    garbage.write_text('[1, 2]\n{"op": "start", "env": "x"}\n')
    args = {"missing": [str(tmp_path / "nope.jsonl")],
            "down": [str(journal), "--port", str(free_port())],
            "bad-env": [str(journal), "--env", "../etc"],
            "garbage": [str(garbage)]}[case]
    assert cli.main(["replay", *args]) == code
    out, err = capsys.readouterr()
    assert message in err and out == ""
    assert err.startswith("vizlab replay: ") and err.count("\n") == 1   # one line, no traceback
