"""vizlab.runner_kit and vizlab.runner_kit.distributed: the pure parts every runner's main relies on."""

import argparse
import json

import pytest
import torch

from vizlab import runner_kit
from vizlab.runner_kit import distributed


def parse(*argv, epochs=5):
    parser = runner_kit.runner_parser("demo_runner", "", epochs=epochs, lr=0.1)
    runner_kit.add_log_every(parser, 3, "send every N steps")
    return parser.parse_args(list(argv))


def test_log_every_is_one_positive_int_option():
    assert parse().log_every == 3 and parse("--log-every", "7").log_every == 7
    for bad in ("0", "-1"):
        with pytest.raises(SystemExit):
            parse("--log-every", bad)
    with pytest.raises(argparse.ArgumentTypeError, match="positive integer"):
        runner_kit.positive_int("0")


def test_runners_that_train_nothing_get_no_epochs_or_lr():
    parser = runner_kit.runner_parser("x", "", epochs=runner_kit.TRAINS_NOTHING)
    dests = {action.dest for action in parser._actions}
    assert "epochs" not in dests and "lr" not in dests and "seed" in dests


def test_finish_writes_metrics_and_one_line_of_results(tmp_path, capsys):
    out = tmp_path / "sub" / "m.json"
    args = parse("--metrics-out", str(out), "--port", "9001", "--env", "e1")
    assert runner_kit.finish("demo_runner", args, {"loss": 0.5}, "loss 0.5") == {"loss": 0.5}
    assert json.loads(out.read_text()) == {"loss": 0.5}
    assert capsys.readouterr().out == "demo_runner: loss 0.5\n"   # the logger's line has the URL


def test_distributed_helpers_are_no_ops_in_one_process():
    rank, world_size, device = distributed.init_distributed("cpu")
    assert (rank, world_size, device) == (0, 1, torch.device("cpu"))
    assert distributed.rank_zero_first(lambda: 42, 0, 1) == 42
    t = torch.tensor([1.0, 2.0])
    assert distributed.all_reduce_sum(t, 1) is t and t.tolist() == [1.0, 2.0]
