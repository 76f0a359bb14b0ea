"""Image grids: tile layout, labels, red marking of mistakes, normalisation undone."""

import base64
import io

import numpy as np
import pytest
import torch
from PIL import Image

from support.grids import render_grid
from vizlab.logger.render import PADDING, png_data_url, tile_origin, tile_scale, to_unit_float


def test_tile_count_and_grid_size():
    images = torch.rand(10, 1, 28, 28)
    grid = render_grid(images, nrow=4)
    scale = tile_scale(28, 28)
    tile = 28 * scale
    assert scale == 3
    rows, cols = 3, 4       # 10 tiles, 4 per row
    assert grid.shape == (rows * (tile + PADDING) + PADDING, cols * (tile + PADDING) + PADDING, 3)
    assert grid.dtype == np.uint8


def test_tiles_hold_the_upscaled_pixels():
    images = torch.zeros(3, 1, 28, 28)
    images[1, 0, 5, 7] = 1.0            # one white pixel in tile 1
    grid = render_grid(images, nrow=3)
    x0, y0 = tile_origin(1, 3, 84, 84)
    assert (grid[y0 + 15:y0 + 18, x0 + 21:x0 + 24] == 255).all()   # 3x3 block, nearest upscale
    assert (grid[y0 + 40:y0 + 80, x0 + 40:x0 + 80] == 0).all()


def test_mistakes_get_a_red_frame_correct_tiles_do_not():
    images = torch.full((4, 1, 28, 28), 0.5)
    grid = render_grid(images, labels=[1, 2, 3, 4], preds=[1, 9, 3, 4], nrow=4)
    red = np.array([255, 0, 0])

    def frame(index):
        x0, y0 = tile_origin(index, 4, 84, 84)
        return grid[y0 - PADDING:y0 + 84 + PADDING, x0 - PADDING]   # left edge column of the frame

    assert (frame(1) == red).all()
    assert not (frame(0) == red).all(axis=1).any()
    assert not (frame(3) == red).all(axis=1).any()
    # and the wrong tile's caption is red text
    x0, y0 = tile_origin(1, 4, 84, 84)
    caption = grid[y0:y0 + 16, x0:x0 + 70]
    assert ((caption[..., 0] > 200) & (caption[..., 1] < 60)).sum() > 10


def test_labels_only_are_drawn_white():
    images = torch.zeros(2, 1, 28, 28)
    plain = render_grid(images, nrow=2)
    labelled = render_grid(images, labels=[7, 3], nrow=2)
    x0, y0 = tile_origin(0, 2, 84, 84)
    caption = labelled[y0:y0 + 16, x0:x0 + 30]
    assert (caption > 200).all(axis=-1).sum() > 5 and (plain[y0:y0 + 16, x0:x0 + 30] == 0).all()


def test_normalisation_is_undone():
    rng = np.random.default_rng(0)
    pixels = rng.random((2, 3, 4, 4)).astype(np.float32)
    mean, std = [0.5, 0.4, 0.3], [0.2, 0.25, 0.3]
    normalized = (pixels - np.array(mean)[:, None, None]) / np.array(std)[:, None, None]
    restored = to_unit_float(torch.from_numpy(normalized.astype(np.float32)), mean, std)
    assert np.allclose(restored, pixels, atol=1e-5)
    mnist = to_unit_float(torch.tensor([[[[(0.0 - 0.1307) / 0.3081]]]]), 0.1307, 0.3081)
    assert abs(mnist.item()) < 1e-6


def test_uint8_and_rgb_inputs():
    images = np.zeros((2, 3, 100, 90), dtype=np.uint8)
    images[:, 0] = 255                                   # pure red pictures
    grid = render_grid(images, nrow=2)
    assert tile_scale(100, 90) == 1 and grid.shape == (100 + 2 * PADDING, 2 * (90 + PADDING) + PADDING, 3)
    x0, y0 = tile_origin(1, 2, 100, 90)
    assert (grid[y0 + 50, x0 + 45] == [255, 0, 0]).all()


def test_single_image_keeps_the_same_layout():
    grid = render_grid(torch.ones(1, 1, 28, 28), labels=[5], preds=[6])
    assert grid.shape == (84 + 2 * PADDING, 84 + 2 * PADDING, 3)
    assert (grid[0, :] == [255, 0, 0]).all()


@pytest.mark.parametrize("shape", [(1, 4, 4, 3), (5, 7, 3)])
def test_png_data_url_round_trip(shape):
    array = np.random.default_rng(1).integers(0, 256, size=shape[-3:] if len(shape) == 3 else shape[1:],
                                              dtype=np.uint8)
    url = png_data_url(array)
    assert url.startswith("data:image/png;base64,")
    back = np.asarray(Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1]))))
    assert np.array_equal(back, array)
