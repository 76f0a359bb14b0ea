"""What a person reads on each runner's dashboard: titles, units, legends, colours, pane order and
sizes, the settings pane. Every check reads the windows back from a real Visdom server."""


import pytest
import torch

from vizlab import palette
from vizlab.runners import (activations, himmelblau, linear_regression, logistic_regression, mnist_mlp,
                            optimizers, softmax_entropy)

from support.windows import page

pytestmark = pytest.mark.server   # starts or needs a real Visdom server

# Visdom's grid at a 1400 px browser window holds about 1270 px of panes (10 px apart) in a row
# (measured on the screenshots in docs/img).
ROW_PX = 1270

# What --device auto picks here: the GPU where there is one.
AUTO_DEVICE = "cuda" if torch.cuda.is_available() else "cpu"


def run(module, server, env, tmp_path, *extra):
    return module.main(["--env", env, "--port", str(server.port), "--quiet",
                        "--journal", str(tmp_path / f"{env}.jsonl"), *map(str, extra)])


def layout(win):
    """The plot's layout, its title as one line (a long one is broken with <br>, clear of the mode bar)."""
    layout = win["content"]["layout"]
    title = layout.get("title")
    return dict(layout, title=title.replace("<br>", " ")) if isinstance(title, str) else layout


def lines(win):
    """{trace name: its Plotly line style}."""
    return {t["name"]: t.get("line", {}) for t in win["content"]["data"]}


def fits_one_row(*wins):
    """The lesson's panes fit one row (the status pane, first on every page, is not counted)."""
    return sum(w["width"] + 10 for w in wins if w["id"] != "status") <= ROW_PX


def test_linear_regression_dashboard(visdom_server, viz, tmp_path):
    env = "dash_linear"
    run(linear_regression, visdom_server, env, tmp_path)
    wins = page(viz, env)

    # The lesson's point first; the settings last; all four on one row.
    assert list(wins) == ["status", "params", "fit", "loss", "hparams"]
    assert fits_one_row(*wins.values())
    assert "weight → 2, bias → 0" in layout(wins["params"])["title"]
    # Each target is dashed, in its parameter's colour.
    line = lines(wins["params"])
    assert line["weight"]["color"] == line["weight target"]["color"] != line["bias"]["color"]
    assert line["bias"]["color"] == line["bias target"]["color"]
    assert [line[n]["dash"] for n in ("weight", "bias", "weight target", "bias target")] == \
        ["solid", "solid", "dash", "dash"]
    assert "y = 2x" in layout(wins["fit"])["title"]
    loss = layout(wins["loss"])
    assert loss["yaxis"]["type"] == "log" and "MSE" in loss["title"]
    assert loss["showlegend"] is False  # one trace: the legend's room goes to the plot

    settings = wins["hparams"]["content"]
    assert f"<b>device</b></td><td>{AUTO_DEVICE}</td>" in settings  # the device used, not 'auto'
    for plumbing in ("journal", "port", "server", "no_visdom", "metrics_out", "quiet", str(tmp_path)):
        assert plumbing not in settings
    # Sized to its table: 4 rows, short values.
    assert wins["hparams"]["height"] == 30 + 20 * settings.count("<tr>")


def test_logistic_regression_dashboard(visdom_server, viz, tmp_path):
    env = "dash_logistic"
    run(logistic_regression, visdom_server, env, tmp_path, "--epochs", 100)
    wins = page(viz, env)

    assert list(wins) == ["status", "probability", "loss", "hparams"]
    probability = layout(wins["probability"])
    assert probability["title"] == "P(pass) after epoch 100"
    assert lines(wins["probability"])["threshold 0.5"]["color"] == palette.RED  # red, as in the lesson
    assert layout(wins["loss"])["showlegend"] is False
    settings = wins["hparams"]["content"]
    assert "<b>refresh_every</b>" in settings and f"<b>device</b></td><td>{AUTO_DEVICE}</td>" in settings


def test_mnist_dashboard_titles_units_and_order(visdom_server, viz, tmp_path, mnist_root):
    env = "dash_mnist"
    run(mnist_mlp, visdom_server, env, tmp_path, "--epochs", 1, "--subset", 1000, "--log-every", 2,
        "--data-dir", mnist_root)
    wins = page(viz, env)

    # The digits share the first row with the loss; the figures and settings follow.
    assert list(wins) == ["status", "loss", "samples", "accuracy", "throughput", "hparams"]
    assert fits_one_row(wins["loss"], wins["samples"])
    assert fits_one_row(wins["accuracy"], wins["throughput"], wins["hparams"])

    loss = layout(wins["loss"])
    assert loss["yaxis"]["type"] == "log" and loss["showlegend"] is True
    assert loss["title"] == "cross-entropy loss (train every 2 steps, val per epoch)"
    assert loss["xaxis"]["title"] == "epoch"

    accuracy = layout(wins["accuracy"])
    assert [t["name"] for t in wins["accuracy"]["content"]["data"]] == ["val"]  # the name tests rely on
    assert accuracy["title"].startswith("test accuracy (%)") and "10000 test images" in accuracy["title"]
    assert accuracy["yaxis"]["title"] == "test accuracy (%)" and accuracy["showlegend"] is False
    throughput = layout(wins["throughput"])
    assert "samples/s" in throughput["title"] and throughput["showlegend"] is False
    assert throughput["yaxis"] == {"title": "samples/s", "rangemode": "tozero"}

    settings = wins["hparams"]["content"]
    for row in ("batch_size", "preset", "device", "world_size"):
        assert f"<b>{row}</b>" in settings
    assert "data_dir" not in settings and str(mnist_root) not in settings


def test_optimizers_have_distinct_colours_and_a_padded_table(visdom_server, viz, tmp_path):
    env = "dash_optimizers"
    run(optimizers, visdom_server, env, tmp_path, "--epochs", 4)
    wins = page(viz, env)

    assert list(wins) == ["status", "loss", "comparison", "hparams"] and fits_one_row(wins["loss"], wins["comparison"])
    line = lines(wins["loss"])
    assert len({(s["color"], s["dash"]) for s in line.values()}) == len(line) == 11, \
        "Plotly's 10 default colours repeat"
    # Curves that coincide on this problem differ by their dash.
    assert line["sgd"]["dash"] == "solid" and line["asgd"]["dash"] == "dash"
    assert len({s["color"] for s in line.values()}) == 11
    table = wins["comparison"]["content"]
    assert "padding:1px 12px" in table and "class='optimizers-table'" in table


def test_himmelblau_draws_f_zero_at_the_floor(visdom_server, viz, tmp_path):
    env = "dash_himmelblau"
    # (3, 2) is a minimum: f is exactly 0 from the start, which a log axis cannot draw.
    metrics = run(himmelblau, visdom_server, env, tmp_path, "--start=3,2", "--epochs", 100)
    wins = page(viz, env)

    assert metrics["runs"][0]["f"] == 0
    assert list(wins) == ["status", "path", "f", "hparams"]  # the picture first, after the status pane
    assert fits_one_row(*wins.values()) and "<b>optimizer</b></td><td>adam</td>" in wins["hparams"]["content"]
    assert (wins["path"]["width"], wins["path"]["height"]) == (420, 420)  # square, like its axes
    f = wins["f"]["content"]
    assert f["data"][0]["y"] == pytest.approx([himmelblau.F_FLOOR] * 3)  # steps 0, 50, 100 (float32)
    assert f"drawn at {himmelblau.F_FLOOR:g}" in f["layout"]["yaxis"]["title"]
    assert f["layout"]["showlegend"] is False and "start (3, 2)" in f["layout"]["title"]


@pytest.mark.parametrize("module, epochs_help", [
    (himmelblau, "optimizer steps"),
    (optimizers, "full-batch training steps per optimizer"),
    (linear_regression, "training epochs"),
])
def test_epochs_help_says_what_epochs_mean(module, epochs_help, capsys):
    with pytest.raises(SystemExit):
        module.main(["--help"])
    assert f"--epochs EPOCHS       {epochs_help}" in " ".join(capsys.readouterr().out.split("\n"))


@pytest.mark.parametrize("module", [activations, softmax_entropy])
@pytest.mark.parametrize("option", ["--epochs", "--lr"])
def test_runners_that_train_nothing_do_not_offer_epochs_or_lr(module, option, capsys):
    with pytest.raises(SystemExit) as stop:
        module.main([option, "1", "--no-visdom"])
    assert stop.value.code == 2 and f"unrecognized arguments: {option}" in capsys.readouterr().err
