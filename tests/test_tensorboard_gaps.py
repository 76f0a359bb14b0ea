"""Drop-in gaps found with real TensorBoard code, each read back from a real server: custom-scalar
layouts declared after the data (tensorboardX's demo_custom_scalars.py, run unchanged through
`python -m vizlab.tensorboard`), Lightning's `valid_` prefix, and run envs that never clash."""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from support.windows import points, window
from vizlab import SummaryWriter
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
