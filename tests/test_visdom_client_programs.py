"""Real third-party Visdom code through vizlab.Visdom (vendored under tests/third_party/, each file
with its license): the windows equal what Visdom's own client makes of the same calls, and the
faults of issue 29's table lose nothing.

- pytorch-CycleGAN-and-pix2pix util/visualizer.py: no server at start (its own fallback starts
  one: here a vizlab server, never `visdom.server`, which downloads files), losses and images;
- simple-faster-rcnn-pytorch utils/vis_tool.py, run unchanged by `python -m vizlab.visdom`, and
  through a server restarted empty halfway (stock Visdom kept 50 of 100 points);
- ssd.pytorch train.py's create_vis_plot/update_vis_plot (its fault loop is in
  test_visdom_client_faults.py)."""

import argparse
import subprocess
import sys
import textwrap
from collections import OrderedDict
from pathlib import Path

import numpy as np
import pytest
import torch
import visdom

from support import windows
from vizlab import Visdom
from vizlab.server.process import VisdomServer, free_port

pytestmark = pytest.mark.server   # starts real Visdom servers

THIRD_PARTY = Path(__file__).resolve().parent / "third_party"
REPO = Path(__file__).resolve().parent.parent
SKIP = ("id", "contentID", "i")


def normalized(port, env):
    return [{k: v for k, v in w.items() if k not in SKIP} for w in windows.page(port, env).values()]


@pytest.fixture
def third_party(monkeypatch):
    monkeypatch.syspath_prepend(str(THIRD_PARTY))
    monkeypatch.syspath_prepend(str(THIRD_PARTY / "cyclegan"))   # its code imports `util`
    yield
    for name in [n for n in sys.modules if n.split(".")[0] in ("util", "faster_rcnn", "ssd")]:
        del sys.modules[name]


def cyclegan_options(port, env, tmp_path):
    (tmp_path / "horse2zebra").mkdir(exist_ok=True)   # CycleGAN's options make it
    return argparse.Namespace(display_id=1, isTrain=True, no_html=True, display_winsize=256,
                              name="horse2zebra", display_port=port, display_server="http://localhost",
                              display_env=env, use_wandb=False, display_ncols=4,
                              checkpoints_dir=str(tmp_path))


def cyclegan_run(visualizer, iterations=100):
    torch.manual_seed(0)
    for i in range(iterations):
        losses = OrderedDict((k, 1.0 / (i + 1 + n)) for n, k in enumerate(["D_A", "G_A", "cycle_A"]))
        visualizer.plot_current_losses(i // 50, (i % 50) / 50, losses)
        if i % 50 == 49:
            visuals = OrderedDict((k, torch.rand(1, 3, 16, 16) * 2 - 1) for k in ("real_A", "fake_B"))
            visualizer.display_current_results(visuals, i // 50, False)


def test_cyclegan_visualizer_with_no_server_at_start_loses_nothing(third_party, tmp_path, monkeypatch):
    from util import visualizer as cyclegan
    port = free_port("127.0.0.1")
    started = []

    def start_server(self):   # what create_visdom_connections does, with a server that is ours
        if not started:
            started.append(VisdomServer(port=port, log_path=tmp_path / "visdom.log").start())

    monkeypatch.setattr(cyclegan.Visualizer, "create_visdom_connections", start_server)
    monkeypatch.setattr(visdom, "Visdom", Visdom)
    try:
        ours = cyclegan.Visualizer(cyclegan_options(port, "cyclegan_vizlab", tmp_path))
        assert started, "check_connection() found a server where none was"
        cyclegan_run(ours)
        assert ours.vis.flush(60)
        monkeypatch.setattr(visdom, "Visdom", Visdom.__mro__[1])
        stock = cyclegan.Visualizer(cyclegan_options(port, "cyclegan_stock", tmp_path))
        cyclegan_run(stock)
        expected = normalized(port, "cyclegan_stock")
        assert len(expected) == 3 and len(expected[0]["content"]["data"][0]["x"]) == 100
        assert normalized(port, "cyclegan_vizlab") == expected
    finally:
        for server in started:
            server.stop()


FASTER_RCNN = textwrap.dedent("""
    import sys
    import numpy as np
    sys.path.insert(0, sys.argv[3])
    from faster_rcnn.vis_tool import Visualizer
    vis = Visualizer(env=sys.argv[2], port=int(sys.argv[1]))
    rng = np.random.default_rng(0)
    for i in range(100):
        vis.plot_many({"total_loss": float(rng.random()), "rpn_loc_loss": float(rng.random())})
        if i % 50 == 0:
            vis.img("gt_img", rng.random((3, 8, 8)) * 255)
            vis.vis.text("step %d" % i, win="log_text")
    print(type(vis.vis).__module__)
""")


def test_faster_rcnn_vis_tool_runs_unchanged_and_makes_visdoms_windows(tmp_path, visdom_server):
    script = tmp_path / "train.py"
    script.write_text(FASTER_RCNN)
    port = str(visdom_server.port)
    env = {**__import__("os").environ, "PYTHONPATH": str(REPO)}
    stock = subprocess.run([sys.executable, str(script), port, "frcnn_stock", str(THIRD_PARTY)],
                           capture_output=True, text=True, env=env, timeout=300, cwd=tmp_path)
    ours = subprocess.run([sys.executable, "-m", "vizlab.visdom", str(script), port, "frcnn_vizlab",
                           str(THIRD_PARTY)], capture_output=True, text=True, env=env, timeout=300,
                          cwd=tmp_path)
    assert stock.returncode == 0 and ours.returncode == 0, stock.stderr + ours.stderr
    assert stock.stdout.split()[-1] == "visdom"
    assert ours.stdout.split()[-1] == "vizlab.integrations.visdom_client"
    expected = normalized(visdom_server.port, "frcnn_stock")
    assert [w["title"] for w in expected] == ["total_loss", "rpn_loc_loss", "gt_img", ""]
    assert len(expected[0]["content"]["data"][0]["x"]) == 100
    assert normalized(visdom_server.port, "frcnn_vizlab") == expected
    assert list((tmp_path / "runs").glob("frcnn_vizlab-*.jsonl")), "no journal was written"


def test_faster_rcnn_vis_tool_through_a_restart_keeps_every_point(third_party, tmp_path, monkeypatch):
    monkeypatch.setattr(visdom, "Visdom", Visdom)
    from faster_rcnn.vis_tool import Visualizer
    port = free_port("127.0.0.1")
    server = VisdomServer(port=port, log_path=tmp_path / "visdom.log").start()
    try:
        vis = Visualizer(env="frcnn_restart", port=port, journal=tmp_path / "j.jsonl")
        for i in range(50):
            vis.plot("total_loss", 1.0 / (i + 1))
        assert vis.vis.flush(60)
        server.stop()
        server.start()   # empty
        for i in range(50, 100):
            vis.plot("total_loss", 1.0 / (i + 1))
        assert vis.vis.flush(60)
        data = windows.window(port, "frcnn_restart", "total_loss")
    finally:
        server.stop()
    assert data["title"] == "total_loss"
    (trace,) = data["content"]["data"]
    assert trace["x"] == list(range(100))
    np.testing.assert_allclose(trace["y"], [1.0 / (i + 1) for i in range(100)])


def ssd_run(viz_client, iterations=60):
    from ssd import train_vis
    train_vis.viz = viz_client
    legend = ["Loc Loss", "Conf Loss", "Total Loss"]
    iter_plot = train_vis.create_vis_plot("Iteration", "Loss", "SSD.PyTorch on VOC", legend)
    epoch_plot = train_vis.create_vis_plot("Epoch", "Loss", "SSD.PyTorch on VOC", legend)
    for iteration in range(iterations):
        if iteration and iteration % 20 == 0:
            train_vis.update_vis_plot(iteration // 20, 0.5, 0.25, epoch_plot, None, "append", 20)
        train_vis.update_vis_plot(iteration, 1.0 / (iteration + 1), 0.5 / (iteration + 1),
                                  iter_plot, epoch_plot, "append")


def test_ssd_train_visdom_calls_make_visdoms_windows(third_party, tmp_path, visdom_server):
    port = visdom_server.port
    ssd_run(visdom.Visdom(port=port, env="ssd_stock", use_incoming_socket=False))
    ours = Visdom(port=port, env="ssd_vizlab", use_incoming_socket=False, journal=tmp_path / "j.jsonl")
    ssd_run(ours)
    assert ours.flush(60)
    expected = normalized(port, "ssd_stock")
    assert len(expected[0]["content"]["data"][0]["x"]) == 61
    assert normalized(port, "ssd_vizlab") == expected
