"""The command line's edges: `vizlab --version`; every numeric option of the runners refused in
one line before anything runs (no traceback); a folder given to replay/compare is named as one;
help says each default once."""

import importlib
import os
import re

import pytest

from vizlab.cli import main
from vizlab.cli.run import available_runners

TRAINERS = ["linear_regression", "logistic_regression", "himmelblau", "optimizers", "mnist_mlp",
            "gradient_flow"]
BAD = [(name, option, value) for name in TRAINERS
       for option, value in [("--lr", "-3"), ("--lr", "nan"), ("--lr", "x"), ("--epochs", "-1"),
                             ("--epochs", "1.5"), ("--seed", "-1"), ("--seed", str(2 ** 32)),
                             ("--port", "0"), ("--port", "70000")]] + [
    ("activations", "--xmax", "inf"), ("activations", "--xmax", "-1"), ("activations", "--points", "1"),
    ("activations", "--seed", "-1"), ("softmax_entropy", "--seed", "x"),
    ("logistic_regression", "--refresh-every", "0"), ("logistic_regression", "--log-every", "-3"),
    ("himmelblau", "--draw-every", "0"), ("optimizers", "--points", "1"), ("optimizers", "--hidden", "0"),
    ("mnist_mlp", "--batch-size", "0"), ("mnist_mlp", "--subset", "-5"), ("mnist_mlp", "--samples", "3"),
    ("gradient_flow", "--depth", "2"), ("gradient_flow", "--hidden", "0"), ("gradient_flow", "--batch-size", "x"),
]


def runner(name):
    return importlib.import_module(f"vizlab.runners.{name}")


def test_version(capsys):
    with pytest.raises(SystemExit) as stop:
        main(["--version"])
    assert stop.value.code == 0
    assert re.fullmatch(r"vizlab \S+ \(visdom 0\.\d+\.\d+, Python 3\.\d+\.\d+\)\n", capsys.readouterr().out)


@pytest.mark.parametrize("name,option,value", BAD, ids=lambda v: str(v))
def test_a_bad_number_is_one_line_before_anything_runs(name, option, value, capsys):
    with pytest.raises(SystemExit) as stop:
        runner(name).main([option, value, "--no-visdom", "--quiet"])
    assert stop.value.code == 2
    err = capsys.readouterr().err
    last = err.strip().splitlines()[-1]
    assert last.startswith(f"{name}: error: ") and option in last and "Traceback" not in err, err


@pytest.mark.parametrize("command", [["serve"], ["replay"], ["compare"], ["run"], ["demo"]])
def test_help_says_each_default_once(command, capsys):
    with pytest.raises(SystemExit):
        main(command + ["--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "(default: False)" not in text and not re.search(r"\(default:[^()]*(\([^()]*\))?[^()]*\) \(default:", text)


@pytest.mark.parametrize("name", sorted(available_runners()))
def test_runner_help_says_each_default_once(name, capsys):
    with pytest.raises(SystemExit):
        runner(name).main(["--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "(default: False)" not in text and "(default: None)" not in text
    assert not re.search(r"\(default:[^()]*\) \(default:", text), text


def test_replay_and_compare_name_a_folder(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    assert main(["replay", str(tmp_path / "empty")]) == 2
    assert "is a folder with no journal (*.jsonl) in it" in capsys.readouterr().err
    for age, name in ((100, "b"), (200, "a")):
        (tmp_path / f"{name}.jsonl").write_text("")
        os.utime(tmp_path / f"{name}.jsonl", (1e9 - age, 1e9 - age))   # b is the newest
    assert main(["replay", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert f"{tmp_path} is a folder; replay takes one journal" in err and "b.jsonl" in err
    assert main(["compare", str(tmp_path), str(tmp_path / "a.jsonl")]) == 1
    assert f"compare takes journals: vizlab compare {tmp_path}/*.jsonl (2 there)" in capsys.readouterr().err


def test_pace_spreads_a_quick_runner_so_it_can_be_watched(tmp_path, capsys):
    """--pace S: the loop takes at least S seconds (sleeps between steps: a lower bound, so no
    load can break it); `vizlab demo` paces every quick trainer."""
    import time

    from vizlab.cli.run import DEMO_ARGS, DEMO_PACE
    start = time.monotonic()
    runner("linear_regression").main(["--epochs", "5", "--pace", "1.5", "--no-visdom", "--quiet",
                                      "--journal", str(tmp_path / "j.jsonl")])
    assert time.monotonic() - start >= 1.5
    quick = ["linear_regression", "logistic_regression", "himmelblau", "optimizers"]
    assert all(DEMO_ARGS[name][-2:] == ["--pace", str(DEMO_PACE)] for name in quick)
    assert DEMO_PACE >= 20
