"""Drop-in gaps found with real TensorBoard code, each read back from a real server: custom-scalar
layouts declared after the data (tensorboardX's demo_custom_scalars.py, run unchanged through
`python -m vizlab.tensorboard`), Lightning's `valid_` prefix, run envs that never clash, and image and embedding windows that keep
their earlier steps (a slider on the page)."""

import base64
import io
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image as PILImage

from support.windows import points, window
from vizlab import SummaryWriter
from vizlab.cli.replay import replay
from vizlab.integrations.tensorboard_images import IMAGE_STEPS
from vizlab.integrations.lightning import metric_window
from vizlab.integrations.naming import folder_run

pytestmark = pytest.mark.server   # needs a real Visdom server
ROOT = Path(__file__).resolve().parent.parent

# tensorboardX's examples/demo_custom_scalars.py: three writers, each layout added AFTER its scalars
DEMO = """
    import time
    from numpy.random import rand
    from tensorboardX import SummaryWriter

    with SummaryWriter() as writer:
        for n_iter in range(100):
            writer.add_scalar('twse/0050', rand(), n_iter)
            writer.add_scalar('twse/2330', rand(), n_iter)
            t = rand()
            writer.add_scalar('dow/aaa', t, n_iter)
            writer.add_scalar('dow/bbb', t - 1, n_iter)
            writer.add_scalar('dow/ccc', t + 1, n_iter)
            writer.add_scalar('nasdaq/aaa', rand(), n_iter)
            writer.add_scalar('nasdaq/bbb', rand(), n_iter)
            writer.add_scalar('nasdaq/ccc', rand(), n_iter)
        layout = {'Taiwan': {'twse': ['Multiline', ['twse/0050', 'twse/2330']]},
                  'USA': {'dow': ['Margin', ['dow/aaa', 'dow/bbb', 'dow/ccc']],
                          'nasdaq': ['Margin', ['nasdaq/aaa', 'nasdaq/bbb', 'nasdaq/ccc']]}}
        writer.add_custom_scalars(layout)
        writer.add_custom_scalars(layout)   # a second call has no effect
    time.sleep(1)
    with SummaryWriter() as writer:
        for n_iter in range(100):
            writer.add_scalar('twse/0050', rand(), n_iter)
            writer.add_scalar('twse/2330', rand(), n_iter)
        writer.add_custom_scalars_multilinechart(['twse/0050', 'twse/2330'])
    time.sleep(1)
    with SummaryWriter() as writer:
        for n_iter in range(100):
            t = rand()
            writer.add_scalar('dow/aaa', t, n_iter)
            writer.add_scalar('dow/bbb', t - 1, n_iter)
            writer.add_scalar('dow/ccc', t + 1, n_iter)
        writer.add_custom_scalars_marginchart(['dow/aaa', 'dow/bbb', 'dow/ccc'])
"""


def margin(port, env, win):
    """{trace name: {x: y}} of a margin chart's figure."""
    return {t["name"]: dict(zip(t["x"], t["y"])) for t in window(port, env, win)["content"]["data"]}


@pytest.mark.slow
def test_tensorboardx_custom_scalars_demo_fills_layouts_declared_after_the_data(visdom_server, tmp_path):
    pytest.importorskip("tensorboardX")
    port = visdom_server.port
    (tmp_path / "demo_custom_scalars.py").write_text(textwrap.dedent(DEMO))
    env = dict(os.environ, VISDOM_PORT=str(port), PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    done = subprocess.run([sys.executable, "-m", "vizlab.tensorboard", "demo_custom_scalars.py"], cwd=tmp_path,
                          env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    first, second, third = sorted(p.name for p in (tmp_path / "runs").iterdir())   # SummaryWriter()'s own folders
    twse = points(port, first, "twse")
    assert len(twse["0050"]) == 100
    assert points(port, first, "twse_custom") == {"twse/0050": twse["0050"], "twse/2330": twse["2330"]}
    for name in ("dow", "nasdaq"):
        plain, chart = points(port, first, name), margin(port, first, f"{name}_custom")
        assert chart[f"{name}/aaa"] == plain["aaa"] and len(chart[f"{name}/aaa"]) == 100
        assert chart[f"{name}/bbb"] == plain["bbb"] and chart[f"{name}/bbb .. {name}/ccc"] == plain["ccc"]
    assert window(port, first, "twse_custom")["title"] == "Taiwan: twse"
    twse = points(port, second, "twse")
    assert points(port, second, "untitled") == {"twse/0050": twse["0050"], "twse/2330": twse["2330"]}
    assert margin(port, third, "untitled")["dow/aaa"] == points(port, third, "dow")["aaa"]


def test_lightning_valid_prefix_is_a_phase():
    # Lightning's backbone_image_classifier.py logs valid_loss (and self.log(..., on_step=True) valid_loss_step)
    assert metric_window("valid_loss") == ("loss", "valid")
    assert metric_window("valid_loss_step") == ("loss", "valid_step")
    assert metric_window("validation_acc") == ("acc", "validation")
    assert metric_window("train_loss") == ("loss", "train") and metric_window("val_loss") == ("loss", "val")


def test_each_run_gets_its_own_env(visdom_server, tmp_path, monkeypatch):
    port = visdom_server.port
    monkeypatch.chdir(tmp_path)
    for project in ("exp1", "exp2"):   # SummaryWriter('train') in two projects: not one env 'train'
        (tmp_path / project).mkdir()
        with SummaryWriter(str(tmp_path / project / "train"), port=port) as writer:
            assert writer.env == f"{project}_train"
            for step in range(3):
                writer.add_scalar("loss", 1.0 + step, step)
    runs = []
    for run in range(2):   # one folder, two 3-step runs (accelerate's logging_dir/project): two envs
        with SummaryWriter("tracking", port=port) as writer:
            runs.append(writer.env)
            for step in range(3):
                writer.add_scalar("loss", 10.0 * (run + 1) + step, step)
    assert runs == ["tracking", "tracking-2"]
    assert points(port, "tracking", "loss") == {"loss": {0: 10.0, 1: 11.0, 2: 12.0}}
    assert points(port, "tracking-2", "loss") == {"loss": {0: 20.0, 1: 21.0, 2: 22.0}}
    assert points(port, "exp1_train", "loss") == points(port, "exp2_train", "loss") == {"loss": {0: 1.0, 1: 2.0, 2: 3.0}}
    assert sorted(os.listdir("tracking")) == ["vizlab-2.jsonl", "vizlab.jsonl"]   # one journal per run
    assert folder_run("logs") == (f"{tmp_path.name}_logs", os.path.join("logs", "vizlab.jsonl"))   # generic: parent too


def decode(src):
    return np.asarray(PILImage.open(io.BytesIO(base64.b64decode(src.split(",", 1)[1]))).convert("RGB"))


def centre(src):
    image = decode(src)
    return tuple(image[image.shape[0] // 2, image.shape[1] // 2])


COLOURS = [(255, 0, 0), (0, 255, 0), (0, 0, 255)]


def test_add_image_keeps_a_history_the_page_steps_through(visdom_server, tmp_path):
    port, env = visdom_server.port, "tb_image_history"
    with SummaryWriter(log_dir=tmp_path / env, port=port) as writer:
        writer.add_image("once", torch.zeros(3, 8, 8), 0)   # one image: a plain image pane, as before
        for step, colour in zip((0, 5, 10), COLOURS):
            writer.add_image("digit", torch.tensor(colour, dtype=torch.uint8)[:, None, None].expand(3, 8, 8), step)
        journal = writer.journal_path
    assert window(port, env, "once")["type"] == "image"
    for target in (env, "tb_image_history_replayed"):
        if target != env:
            replay(journal, port=port, env=target)   # the journal rebuilds the history whole
        pane = window(port, target, "digit")
        layout = pane["content"]["layout"]
        slider = layout["sliders"][0]
        assert [s["label"] for s in slider["steps"]] == ["0", "5", "10"] and slider["active"] == 2
        assert [centre(s["args"][0]["images[0].source"]) for s in slider["steps"]] == COLOURS
        assert centre(layout["images"][0]["source"]) == COLOURS[-1]   # the latest shown
        assert slider["steps"][0]["args"][0]["title.text"] == "digit (step 0)"


def test_image_history_keeps_the_last_steps(visdom_server, tmp_path):
    port, env = visdom_server.port, "tb_image_history_cut"
    with SummaryWriter(log_dir=tmp_path / env, port=port) as writer:
        for step in range(IMAGE_STEPS + 5):
            writer.add_images("batch", torch.rand(2, 1, 4, 4), step)
    steps = window(port, env, "batch")["content"]["layout"]["sliders"][0]["steps"]
    assert [s["label"] for s in steps] == [str(s) for s in range(5, IMAGE_STEPS + 5)]


def test_add_embedding_keeps_a_history_the_page_steps_through(visdom_server, tmp_path):
    port, env = visdom_server.port, "tb_embedding_history"
    g = torch.Generator().manual_seed(0)
    with SummaryWriter(log_dir=tmp_path / env, port=port) as writer:
        for step in (1, 2):
            writer.add_embedding(torch.randn(10, 4, generator=g), metadata=["a"] * 5 + [f"b{step}"] * 5,
                                 label_img=torch.rand(10, 1, 3, 3, generator=g), global_step=step)
    content = window(port, env, "embedding")["content"]
    assert [(t["name"], t["visible"]) for t in content["data"]] == [("a", False), ("b1", False), ("a", True), ("b2", True)]
    steps = content["layout"]["sliders"][0]["steps"]
    assert [s["label"] for s in steps] == ["1", "2"]
    assert steps[0]["args"][0]["visible"] == [True, True, False, False]
    assert steps[0]["args"][1]["title"] == "embedding (step 1, PCA)" and steps[0]["args"][1]["images"] == []
    assert len(steps[1]["args"][1]["images"]) == 10 == len(content["layout"]["images"])


@pytest.mark.browser
def test_the_page_steps_through_an_image_history(visdom_server, tmp_path):
    """In headless Chromium: the slider is drawn under the latest image; choosing step 0 shows step 0's image."""
    from support import browser as vb
    vb.require_chromium(pytest)
    port, env = visdom_server.port, "tb_image_history_page"
    with SummaryWriter(log_dir=tmp_path / env, port=port) as writer:
        for step, colour in zip((0, 5, 10), COLOURS):
            writer.add_image("digit", torch.tensor(colour, dtype=torch.uint8)[:, None, None].expand(3, 8, 8), step)
    with vb.open_browser() as browser:
        page, problems = vb.open_dashboard(browser, f"http://127.0.0.1:{port}", env)
        vb.wait_for_ids(page, ["digit"])
        plot = page.locator(".react-grid-item .js-plotly-plot").first
        plot.locator(".slider-container").wait_for(timeout=30_000)
        shown = lambda: plot.evaluate("p => p.layout.images[0].source")   # noqa: E731
        assert centre(shown()) == COLOURS[-1]
        rail = plot.locator(".slider-rail-touch-rect").bounding_box()
        page.mouse.click(rail["x"] + 2, rail["y"] + rail["height"] / 2)   # the rail's left end: step 0
        page.wait_for_function("() => document.querySelector('.js-plotly-plot').layout.title.text === 'digit (step 0)'",
                               timeout=30_000)
        assert centre(shown()) == COLOURS[0]
        assert problems.messages() == []


def test_image_history_comes_back_whole_after_a_restart_empty(tmp_path):
    """The server restarted empty (the window gone): the next flush rebuilds every step of the slider."""
    from vizlab.server.process import VisdomServer
    env = "tb_image_history_restart"
    with VisdomServer(env_path=tmp_path / "env") as srv:
        with SummaryWriter(log_dir=tmp_path / env, port=srv.port) as writer:
            for step, colour in zip((0, 1), COLOURS):
                writer.add_image("digit", torch.tensor(colour, dtype=torch.uint8)[:, None, None].expand(3, 8, 8), step)
            assert writer.flush(timeout=20)
            srv.stop()
            srv.start()   # same port, empty
            writer.add_image("digit", torch.tensor(COLOURS[2], dtype=torch.uint8)[:, None, None].expand(3, 8, 8), 2)
            assert writer.flush(timeout=30)
            steps = window(srv.port, env, "digit")["content"]["layout"]["sliders"][0]["steps"]
            assert [centre(s["args"][0]["images[0].source"]) for s in steps] == COLOURS
