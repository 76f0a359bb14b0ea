"""Big images stay bounded: the grid's pixels (not only the tile size), and the image bytes
waiting in the queue (backpressure counts bytes as well as calls)."""

import base64
import io
import json

import numpy as np
import pytest
import torch
from PIL import Image

from vizlab import VisdomLogger
from vizlab import journal as journal_mod
from vizlab.logger import writer as writer_mod
from vizlab.runner_kit.data import mnist_datasets
from vizlab.logger.render import MAX_PIXELS, MAX_SIDE, MIN_TILE, PADDING, grid_plan

pytestmark = pytest.mark.server   # starts or needs a real Visdom server


def picture(src):
    return Image.open(io.BytesIO(base64.b64decode(src.split(",", 1)[1])))


def server_image(viz, env, win):
    content = json.loads(viz.get_window_data(win, env=env))["content"]
    return picture(content["src"]), content.get("caption")


@pytest.mark.parametrize("shape", [(1, 1, 3000), (10_000, 28, 28), (1, 4000, 4000), (100, 500, 500),
                                   (48, 28, 28), (5, 28, 28), (300, 1, 2)])
@pytest.mark.parametrize("nrow", [1, 8, 10_000])
def test_the_plan_keeps_every_grid_within_the_pixel_budget(shape, nrow):
    n, h, w = shape
    shown, tile_h, tile_w, columns = grid_plan(n, h, w, nrow)
    rows = -(-shown // columns)
    assert (columns * (tile_w + PADDING) + PADDING) * (rows * (tile_h + PADDING) + PADDING) <= MAX_PIXELS
    assert max(tile_h, tile_w) <= MAX_SIDE and 1 <= shown <= n and columns <= nrow
    if n * (max(h, w) + PADDING) ** 2 < MAX_PIXELS // 4:   # small batches are shown whole...
        assert shown == n
        if max(h, w) < MIN_TILE:                          # ...with tiny tiles upscaled
            assert tile_h > h


def test_a_1x3000_image_is_shrunk_to_fit_not_upscaled(tmp_path, visdom_server, viz):
    with VisdomLogger(env="ib_tall", port=visdom_server.port, journal=str(tmp_path / "j.jsonl")) as log:
        log.images("tall", torch.rand(1, 1, 1, 3000), labels=["wide"])
        assert log.flush(timeout=60)
    image, _ = server_image(viz, "ib_tall", "tall")
    assert image.size == (MAX_SIDE + 2 * PADDING, 1 + 2 * PADDING)   # was 252,008 x 92 pixels


@pytest.mark.timeout(300)
def test_10000_mnist_digits_in_one_call_show_the_first_that_fit_and_say_so(tmp_path, mnist_root,
                                                                            visdom_server, viz, capfd):
    _, test_set = mnist_datasets(str(mnist_root))
    images, labels = test_set.data.unsqueeze(1), test_set.targets
    assert images.shape == (10_000, 1, 28, 28)
    shown = grid_plan(10_000, 28, 28, 8)[0]
    with VisdomLogger(env="ib_mnist", port=visdom_server.port, journal=str(tmp_path / "j.jsonl")) as log:
        log.images("digits", images, labels=labels, preds=labels, caption="test set")
        assert log.flush(timeout=120)
    image, caption = server_image(viz, "ib_mnist", "digits")
    assert image.size[0] * image.size[1] <= MAX_PIXELS
    assert caption == f"test set (the first {shown} of 10000 images)"
    assert 1000 < shown < 10_000
    assert capfd.readouterr().err.count(f"the first {shown} of 10000 images are shown") == 1
    (record,) = [r for r in journal_mod.read(tmp_path / "j.jsonl") if r["op"] == "image"]
    assert picture(record["src"]).size == image.size
    # The first tile is the first digit, at 1:1 (28 px tiles, white padding around them)
    first = np.asarray(image.convert("L"))[PADDING + 14:PADDING + 28, PADDING:PADDING + 28]
    assert (first == images[0, 0, 14:].numpy()).all()


@pytest.mark.timeout(300)
def test_image_calls_in_a_row_wait_for_queued_bytes_and_all_arrive(tmp_path, monkeypatch,
                                                                    visdom_server, viz):
    limit = 6 * 2**20
    monkeypatch.setattr(writer_mod, "MAX_QUEUED_BYTES", limit)
    batch = torch.rand(64, 3, 32, 32)   # one grid: 3 x 804 x 804 bytes, 1.85 MiB
    grid_bytes = 3 * (8 * (96 + PADDING) + PADDING) ** 2
    log = VisdomLogger(env="ib_stream", port=visdom_server.port, journal=str(tmp_path / "j.jsonl"))
    most = 0
    for step in range(60):
        log.images("stream", batch, labels=[step] * 64, caption=f"step {step}")
        with log._writer.lock:
            queued = sum(e[2].nelement() for e in log._writer.queue if e[0] == "images")
        most = max(most, queued)
        assert queued <= limit
    assert log.flush(timeout=120)
    waits = log.stats["waits"]
    log.close()
    assert grid_bytes * 2 <= most <= limit and waits > 0
    captions = [r["opts"]["caption"] for r in journal_mod.read(tmp_path / "j.jsonl") if r["op"] == "image"]
    assert captions == [f"step {s}" for s in range(60)]
    assert server_image(viz, "ib_stream", "stream")[1] == "step 59"
