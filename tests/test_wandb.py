"""vizlab.wandb: nanoGPT's and Pytorch-UNet's wandb calls (as their train.py make them, on tiny models on
the CPU) read back from a real server; wandb's step rules, define_metric, media, alert, watch, finish."""

import base64
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image as PILImage

from support.windows import client, points, window
from vizlab import wandb
from vizlab.logger.render import PADDING
from vizlab.settings_table import read_settings

pytestmark = pytest.mark.server   # needs a real Visdom server
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def no_open_run():
    yield
    wandb.finish()


def pixels(win_data, height=None, src=None):
    """The image pane's pixels (an image window with a history: its latest image; src=: that one);
    height=: the one tile, padding cut and the upscale undone."""
    content = win_data["content"]
    src = src or (content["layout"]["images"][0]["source"] if win_data["type"] == "plot" else content["src"])
    shown = np.asarray(PILImage.open(io.BytesIO(base64.b64decode(src.split(",", 1)[1]))).convert("RGB"))
    if height is None:
        return shown
    shown = shown[PADDING:-PADDING, PADDING:-PADDING]
    return shown[::shown.shape[0] // height, ::shown.shape[0] // height]


# ------------------------------------------------------------------ nanoGPT's train.py, its wandb lines

class TinyGPT(torch.nn.Module):
    def __init__(self, vocab=16, block=8, n_embd=16):
        super().__init__()
        self.tok = torch.nn.Embedding(vocab, n_embd)
        self.pos = torch.nn.Embedding(block, n_embd)
        self.block = torch.nn.TransformerEncoderLayer(n_embd, 2, 32, dropout=0.0, batch_first=True)
        self.head = torch.nn.Linear(n_embd, vocab)

    def forward(self, idx, targets):
        x = self.tok(idx) + self.pos(torch.arange(idx.shape[1]))
        mask = torch.nn.Transformer.generate_square_subsequent_mask(idx.shape[1])
        logits = self.head(self.block(x, src_mask=mask, is_causal=True))
        return logits, F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1))


def nanogpt_loop(port, tmp_path, max_iters=12, eval_interval=4):
    # nanoGPT's globals-as-config, as train.py builds it
    wandb_project, wandb_run_name = "owt", "gpt2"
    learning_rate, batch_size, block_size = 6e-4, 4, 8
    config = {"learning_rate": learning_rate, "batch_size": batch_size, "block_size": block_size,
              "max_iters": max_iters, "eval_interval": eval_interval}
    torch.manual_seed(1337)
    data = torch.randint(0, 16, (400,))
    model = TinyGPT()
    optimizer = torch.optim.AdamW(model.parameters(), lr=learning_rate)

    def get_batch():
        ix = torch.randint(len(data) - block_size, (batch_size,))
        return torch.stack([data[i:i + block_size] for i in ix]), torch.stack([data[i + 1:i + 1 + block_size] for i in ix])

    @torch.no_grad()
    def estimate_loss():
        out = {}
        model.eval()
        for split in ["train", "val"]:
            losses = torch.zeros(3)
            for k in range(3):
                X, Y = get_batch()
                _, loss = model(X, Y)
                losses[k] = loss.item()
            out[split] = losses.mean()   # a 0-d tensor, as nanoGPT logs it
        model.train()
        return out

    wandb.init(project=wandb_project, name=wandb_run_name, config=config, port=port, dir=str(tmp_path))
    logged = {}
    for iter_num in range(max_iters + 1):
        lr = learning_rate * min(1.0, (iter_num + 1) / 4)
        if iter_num % eval_interval == 0:
            losses = estimate_loss()
            running_mfu = -1.0 if iter_num == 0 else 0.01 * iter_num
            wandb.log({
                "iter": iter_num,
                "train/loss": losses['train'],
                "val/loss": losses['val'],
                "lr": lr,
                "mfu": running_mfu * 100,  # convert to percentage
            })
            logged[iter_num] = (float(losses["train"]), float(losses["val"]), lr)
        X, Y = get_batch()
        _, loss = model(X, Y)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
    return logged


def test_nanogpt_wandb_calls_draw_its_curves(visdom_server, tmp_path, capfd):
    port = visdom_server.port
    logged = nanogpt_loop(port, tmp_path)
    run = wandb.run
    env = run.env
    assert env.startswith("owt_gpt2-") and run.config.learning_rate == 6e-4 and run.config["max_iters"] == 12
    assert run.logger.flush(timeout=20)
    wandb.finish()
    assert wandb.run is None
    steps = list(range(len(logged)))   # one wandb step per log call: x = 0, 1, 2, 3
    loss = points(port, env, "loss")
    assert loss.keys() == {"train", "val"}
    assert list(loss["train"]) == steps
    assert [loss["train"][s] for s in steps] == pytest.approx([t for t, _, _ in logged.values()], rel=1e-6)
    assert [loss["val"][s] for s in steps] == pytest.approx([v for _, v, _ in logged.values()], rel=1e-6)
    assert list(points(port, env, "lr")["lr"].values()) == pytest.approx([lr for _, _, lr in logged.values()])
    assert list(points(port, env, "iter")["iter"].values()) == list(logged)
    assert points(port, env, "mfu")["mfu"][0] == -100.0
    settings = read_settings(window(port, env, "settings")["content"])
    assert settings["learning_rate"] == "0.0006" and settings["project"] == "owt" and settings["name"] == "gpt2"
    summary = read_settings(window(port, env, "summary")["content"])
    assert float(summary["iter"]) == 12 and float(summary["train/loss"]) == pytest.approx(logged[12][0], rel=1e-4)
    assert f"Visdom env {env!r}" in capfd.readouterr().err
    assert list((tmp_path / "wandb").glob("run-*/vizlab.jsonl"))   # the journal, where wandb keeps its files


def test_nanogpt_with_define_metric_draws_against_iter(visdom_server, tmp_path):
    port = visdom_server.port
    run = wandb.init(project="owt", name="iters", port=port, dir=str(tmp_path))
    wandb.define_metric("iter")
    wandb.define_metric("*", step_metric="iter")
    wandb.define_metric("val/loss", summary="min")
    wandb.define_metric("debug/*", hidden=True)
    for it, val in zip((0, 250, 500), (3.1, 2.4, 2.6)):
        wandb.log({"iter": it, "train/loss": 3.0 - it / 500, "val/loss": val, "debug/x": 1.0})
    env = run.env
    wandb.finish()
    assert points(port, env, "loss") == {"train": {0: 3.0, 250: 2.5, 500: 2.0}, "val": {0: 3.1, 250: 2.4, 500: 2.6}}
    assert "debug" not in json.loads(client(port).get_window_data(None, env=env))   # hidden
    summary = read_settings(window(port, env, "summary")["content"])
    assert summary["val/loss"] == "2.4" and summary["train/loss"] == "2.0"  # min, and the last


# ------------------------------------------------------------------ Pytorch-UNet's train.py, its wandb lines

class TinyUNet(torch.nn.Module):
    def __init__(self, n_channels=3, n_classes=2):
        super().__init__()
        self.n_channels, self.n_classes = n_channels, n_classes
        self.down = torch.nn.Conv2d(n_channels, 4, 3, padding=1)
        self.up = torch.nn.Conv2d(4, n_classes, 3, padding=1)

    def forward(self, x):
        return self.up(torch.relu(self.down(x)))


def dice(pred, target):
    inter = (pred * target).sum()
    return (2 * inter + 1e-6) / (pred.sum() + target.sum() + 1e-6)


def unet_loop(port, tmp_path, epochs=2, batches=5, batch_size=2):
    torch.manual_seed(0)
    images_all = torch.rand(batches * batch_size, 3, 16, 16)
    masks_all = (images_all[:, 0] > 0.5).long()
    model = TinyUNet()
    n_train, learning_rate, val_percent, img_scale, amp, save_checkpoint = len(images_all), 1e-2, 0.1, 0.5, False, True
    # (Initialize logging)
    experiment = wandb.init(project='U-Net', resume='allow', anonymous='must', port=port, dir=str(tmp_path))
    experiment.config.update(
        dict(epochs=epochs, batch_size=batch_size, learning_rate=learning_rate,
             val_percent=val_percent, save_checkpoint=save_checkpoint, img_scale=img_scale, amp=amp)
    )
    optimizer = torch.optim.RMSprop(model.parameters(), lr=learning_rate, weight_decay=1e-8, momentum=0.999)
    scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, 'max', patience=5)
    criterion = torch.nn.CrossEntropyLoss()
    global_step, losses, evals = 0, [], []
    for epoch in range(1, epochs + 1):
        model.train()
        for b in range(batches):
            images = images_all[b * batch_size:(b + 1) * batch_size]
            true_masks = masks_all[b * batch_size:(b + 1) * batch_size]
            masks_pred = model(images)
            loss = criterion(masks_pred, true_masks)
            loss += 1 - dice(F.softmax(masks_pred, dim=1)[:, 1], true_masks.float())
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            global_step += 1
            experiment.log({
                'train loss': loss.item(),
                'step': global_step,
                'epoch': epoch
            })
            losses.append(loss.item())
            # Evaluation round
            division_step = (n_train // (5 * batch_size))
            if division_step > 0 and global_step % 3 == 0:
                histograms = {}
                for tag, value in model.named_parameters():
                    tag = tag.replace('/', '.')
                    if not (torch.isinf(value) | torch.isnan(value)).any():
                        histograms['Weights/' + tag] = wandb.Histogram(value.data.cpu())
                    if not (torch.isinf(value.grad) | torch.isnan(value.grad)).any():
                        histograms['Gradients/' + tag] = wandb.Histogram(value.grad.data.cpu())
                with torch.no_grad():
                    val_score = dice(model(images_all[:2]).argmax(dim=1).float(), masks_all[:2].float())
                scheduler.step(val_score)
                experiment.log({
                    'learning rate': optimizer.param_groups[0]['lr'],
                    'validation Dice': val_score,
                    'images': wandb.Image(images[0].cpu()),
                    'masks': {
                        'true': wandb.Image(true_masks[0].float().cpu()),
                        'pred': wandb.Image(masks_pred.argmax(dim=1)[0].float().cpu()),
                    },
                    'step': global_step,
                    'epoch': epoch,
                    **histograms
                })
                evals.append((global_step, float(val_score), true_masks[0].clone()))
    return losses, evals


def test_unet_wandb_calls_draw_loss_images_masks_and_histograms(visdom_server, tmp_path, capfd):
    port = visdom_server.port
    losses, evals = unet_loop(port, tmp_path)
    run = wandb.run
    env = run.env
    assert env.startswith("U-Net_run-")
    wandb.finish()
    err = capfd.readouterr().err
    assert "wandb.init: anonymous, resume ignored" in err   # one line for what has no meaning here
    # wandb's x: one step per log call, the evaluation rounds' calls included
    train = points(port, env, "train loss")["train loss"]
    assert len(train) == len(losses) and list(train.values()) == pytest.approx(losses, rel=1e-6)
    assert max(train) == len(losses) + len(evals) - 1
    dice_points = points(port, env, "validation Dice")["validation Dice"]
    assert list(dice_points.values()) == pytest.approx([d for _, d, _ in evals], rel=1e-5)
    assert points(port, env, "step")["step"][0] == 1.0
    # the images: the input, and the true mask as wandb draws it (min-max normalised: 0 black, 1 white)
    assert len(window(port, env, "images")["content"]["layout"]["sliders"][0]["steps"]) == len(evals)
    masks = window(port, env, "masks_true")
    steps = masks["content"]["layout"]["sliders"][0]["steps"]   # every evaluation's mask, a slider over them
    assert [int(step["label"]) for step in steps] == list(dice_points)
    for step, (_, _, mask) in zip(steps, evals):
        true = pixels(masks, 16, src=step["args"][0]["images[0].source"])
        assert true.shape[:2] == (16, 16) and ((true[..., 0] > 127) == mask.numpy().astype(bool)).all()
    assert window(port, env, "masks_pred")["type"] == "plot"
    # a histogram pane per parameter and its gradient: a heatmap of value bins by step
    for win in ("Weights_down.weight", "Gradients_up.bias"):
        heat = window(port, env, win)["content"]["data"][0]
        assert heat["type"] == "heatmap" and heat["x"] == list(dice_points), win   # the eval steps
        assert sum(sum(row) for row in heat["z"]) > 0
    settings = read_settings(window(port, env, "settings")["content"])
    assert settings["learning_rate"] == "0.01" and settings["epochs"] == "2" and settings["amp"] == "False"


# ------------------------------------------------------------------ wandb's rules, one at a time

def test_step_commit_and_nested_keys(visdom_server, tmp_path, capfd):
    port = visdom_server.port
    run = wandb.init(project="rules", port=port, dir=str(tmp_path), mode="online", tags=["a", "b"], group="g",
                     notes="n", job_type="train", settings=wandb.Settings(start_method="thread"), force=True)
    wandb.log({"a": 1.0})                               # step 0
    wandb.log({"b": 2.0}, commit=False)                 # step 1, not ended
    wandb.log({"a": 3.0})                               # still step 1
    wandb.log({"a": 5.0}, step=10)                      # step 10, open
    wandb.log({"b": 6.0}, step=10)                      # same step
    wandb.log({"a": 7.0}, step=4)                       # before: dropped, as wandb drops it
    wandb.log({"train": {"loss": 0.5, "acc": 0.9}, "eval": {"loss": 0.7}}, step=11)
    wandb.log({"flag": True, "text": "hello", "nothing": None, "video": object()})
    run.summary["best"] = 0.25
    env = run.env
    run.finish()
    assert points(port, env, "a") == {"a": {0: 1.0, 1: 3.0, 10: 5.0}}
    assert points(port, env, "b") == {"b": {1: 2.0, 10: 6.0}}
    assert points(port, env, "loss") == {"train": {11: 0.5}, "eval": {11: 0.7}}
    assert points(port, env, "acc") == {"train": {11: 0.9}}
    summary = read_settings(window(port, env, "summary")["content"])
    assert summary["best"] == "0.25" and summary["a"] == "5.0" and summary["flag"] == "True"
    err = capfd.readouterr().err
    assert "wandb.init: force, settings ignored (no meaning for a Visdom server)" in err   # job_type is shown
    assert "wandb.log: 'video' is a object, which vizlab does not draw" in err
    assert "step 4 is before the current step 10; dropped" in err
    settings = read_settings(window(port, env, "settings")["content"])
    assert settings["tags"] == "a, b" and settings["group"] == "g" and settings["job_type"] == "train"


def test_media_types(visdom_server, tmp_path):
    port = visdom_server.port
    run = wandb.init(project="media", port=port, dir=str(tmp_path))
    path = tmp_path / "red.png"
    PILImage.new("RGB", (6, 4), (255, 0, 0)).save(path)
    import matplotlib.figure
    figure = matplotlib.figure.Figure(figsize=(1, 1), dpi=20, facecolor=(0, 1, 0))
    table = wandb.Table(columns=["id", "label"], data=[[1, "cat"]])
    table.add_data(2, "<dog>")
    wandb.log({
        "uint8": wandb.Image(np.full((4, 6, 3), 200, np.uint8), caption="grey"),
        "float01": wandb.Image(np.full((4, 6), 0.5)),
        "minus1": wandb.Image(np.full((4, 6, 3), -1.0)),
        "pil": wandb.Image(PILImage.new("RGB", (6, 4), (0, 0, 255))),
        "path": wandb.Image(str(path)),
        "grid": [wandb.Image(torch.rand(3, 4, 6), caption=f"t{i}") for i in range(3)],
        "hist": wandb.Histogram(np_histogram=([1, 2, 3], [0.0, 1.0, 2.0, 3.0])),
        "weights": torch.randn(100),                    # a tensor: a histogram, as wandb makes it
        "table": table,
        "page": wandb.Html("<b>bold</b>"),
        "figure": wandb.Image(figure),
    })
    env = run.env
    run.finish()
    assert (pixels(window(port, env, "uint8"), 4) == 200).all()
    assert window(port, env, "uint8")["content"]["caption"] == "grey" or "grey" in json.dumps(window(port, env, "uint8"))
    assert (pixels(window(port, env, "float01"), 4) == 128).all()
    assert (pixels(window(port, env, "minus1"), 4) == 0).all()
    assert (pixels(window(port, env, "pil"), 4)[..., 2] == 255).all()
    assert (pixels(window(port, env, "path"), 4)[..., 0] == 255).all()
    assert window(port, env, "grid")["type"] == "image"
    assert (pixels(window(port, env, "figure"), 20)[..., 1] == 255).all()
    assert window(port, env, "hist")["content"]["data"][0]["type"] == "heatmap"
    assert window(port, env, "weights")["content"]["data"][0]["type"] == "heatmap"
    assert "&lt;dog&gt;" in window(port, env, "table")["content"]
    assert "<b>bold</b>" in window(port, env, "page")["content"]


def test_alert_watch_and_exit_code(visdom_server, tmp_path, capfd):
    port = visdom_server.port
    run = wandb.init(project="alerts", port=port, dir=str(tmp_path))
    model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 1))
    wandb.watch(model, log_freq=2)
    for _ in range(4):
        model(torch.rand(5, 3)).pow(2).mean().backward()
    wandb.alert(title="Low accuracy", text="accuracy 0.1 is below 0.5", level=wandb.AlertLevel.WARN)
    env = run.env
    assert run.logger.flush(timeout=20)
    wandb.finish(exit_code=3)
    assert "alert: WARN: Low accuracy: accuracy 0.1 is below 0.5" in capfd.readouterr().err
    status = window(port, env, "status")["content"]
    assert "Low accuracy" in status and "crashed" in status and "exit code 3" in status
    grads = points(port, env, "gradients")
    assert grads.keys() == {"layer 1", "layer 2"} and list(grads["layer 1"]) == [2, 4]


def test_a_run_ends_crashed_in_a_with_block_and_finished_at_exit(visdom_server, tmp_path):
    port = visdom_server.port
    with pytest.raises(ZeroDivisionError):
        with wandb.init(project="ends", port=port, dir=str(tmp_path)) as run:
            wandb.log({"a": 1.0})
            1 / 0
    assert "crashed" in window(port, run.env, "status")["content"] and wandb.run is None
    script = tmp_path / "script.py"   # no finish(): wandb finishes the run at exit
    script.write_text("import sys\nfrom vizlab import wandb\nrun = wandb.init(project='exit', port=int(sys.argv[1]))\n"
                      "wandb.log({'a': 1.0}, commit=False)\nprint(run.env)\n")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    done = subprocess.run([sys.executable, str(script), str(port)], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    run_env = done.stdout.strip()
    assert points(port, run_env, "a") == {"a": {0: 1.0}}   # the uncommitted step too
    assert read_settings(window(port, run_env, "summary")["content"]) == {"a": "1.0"}
    assert "finished" in window(port, run_env, "status")["content"]


def test_offline_and_disabled_modes(visdom_server, tmp_path):
    run = wandb.init(project="off", mode="disabled", config={"a": 1})
    wandb.log({"x": 1.0})
    assert run.config.a == 1 and wandb.run is run
    wandb.finish()
    run = wandb.init(project="off", mode="offline", port=visdom_server.port, dir=str(tmp_path))
    wandb.log({"x": 1.0})
    env = run.env
    wandb.finish()
    assert env not in client(visdom_server.port).get_env_list()   # offline: nothing sent
    assert '"win":"x"' in next((tmp_path / "wandb").glob("run-*/vizlab.jsonl")).read_text()


def test_log_before_init_is_a_clear_error():
    with pytest.raises(RuntimeError, match=r"wandb.log: call wandb.init\(\) first"):
        wandb.log({"a": 1})
    assert wandb.run is None and len(wandb.config) == 0


def test_no_server_never_stops_the_run_and_the_journal_keeps_it(visdom_server, tmp_path):
    from vizlab.server.process import free_port
    run = wandb.init(project="down", port=free_port(), dir=str(tmp_path))   # nobody listens there
    for step in range(5):
        wandb.log({"train/loss": 1.0 / (step + 1), "img": wandb.Image(np.zeros((4, 4, 3), np.uint8))})
    env, journal = run.env, run.logger.journal_path
    wandb.finish()                                            # bounded wait, no exception
    from vizlab.cli.replay import replay
    replay(journal, port=visdom_server.port)                  # the windows, later, from the journal
    assert points(visdom_server.port, env, "loss") == {"train": {s: 1.0 / (s + 1) for s in range(5)}}
