"""Image grids with each tile's label drawn on it.

Two halves, on two threads. `layout_grid` runs on the caller's thread: torchvision's `make_grid`
on the images' own device (asynchronous on a GPU; well under a millisecond for an MNIST batch on a
CPU, once per epoch). `draw_labels` runs on the logger's sender thread and uses only NumPy and Pillow.
No torch op may run on the sender thread: it would give that long-lived thread an OpenMP pool of its
own, and on a small machine that pool competes with training (an MNIST epoch went from 0.44 to 1.06 s).
Tiny tiles (MNIST's 28x28) are upscaled first so the text stays readable. Mistakes (pred != label)
get a red frame and red text, so they stand out at a glance.

The grid's size is bounded whatever comes in (`grid_plan`): a tile's longer side is at most
MAX_SIDE (bigger images are shrunk to fit), and the whole grid at most MAX_PIXELS: the upscale
shrinks first, then big tiles (not below MIN_TILE), and when even that is too much only the first
images that fit are shown (the logger says so in the caption). So a 1 x 3000 image or 10,000
MNIST digits cost the caller a few megabytes, not gigabytes.
"""

import base64
import io
import math

import numpy as np
from PIL import Image, ImageDraw, ImageFont

MIN_TILE = 84        # tiles smaller than this (in pixels) are upscaled by a whole factor
PADDING = 4          # pixels between tiles; the red frame of a mistake is drawn in it
MAX_SIDE = 2048      # a tile's longer side at most, in pixels
MAX_PIXELS = (MAX_SIDE + 2 * PADDING) ** 2   # a grid's pixels at most: one biggest tile fits
RED = (255, 0, 0)
GREEN = (0, 200, 0)
WHITE = (255, 255, 255)


def to_unit_float(images, mean=None, std=None):
    """(N,C,H,W) tensor -> float32 tensor in [0,1]: uint8 / 255, or undo Normalize(mean, std)."""
    import torch

    images = images.detach()
    x = images.float() / 255.0 if images.dtype == torch.uint8 else images.float()
    if mean is not None or std is not None:
        shape = (1, -1, 1, 1)
        x = (x * torch.as_tensor(1.0 if std is None else std, dtype=torch.float32, device=x.device).reshape(shape)
             + torch.as_tensor(0.0 if mean is None else mean, dtype=torch.float32, device=x.device).reshape(shape))
    return x.clamp(0.0, 1.0)


def tile_scale(height, width):
    """Whole-number upscale factor that makes the smaller side at least MIN_TILE pixels."""
    return max(1, math.ceil(MIN_TILE / max(1, min(height, width))))


def grid_plan(n, height, width, nrow):
    """-> (shown, tile_h, tile_w, columns): how many of n images the grid shows, the size of each
    tile and the tiles per row, within MAX_SIDE and MAX_PIXELS."""
    longer, columns = max(height, width), min(nrow, n)
    if longer > MAX_SIDE:
        factor = MAX_SIDE / longer
    else:
        factor = float(min(tile_scale(height, width), max(1, MAX_SIDE // longer)))
    lowest = min(factor, 1.0 if longer <= MIN_TILE else MIN_TILE / longer)
    while factor > lowest and _pixels(n, columns, *_tile(height, width, factor)) > MAX_PIXELS:
        factor = max(lowest, factor - 1 if factor >= 2 else factor * 0.9)
    tile_h, tile_w = _tile(height, width, factor)
    if _pixels(n, columns, tile_h, tile_w) <= MAX_PIXELS:
        return n, tile_h, tile_w, columns
    # Still too big at the smallest tiles: the first rows that fit (fewer columns if one row won't)
    columns = max(1, min(columns, (MAX_PIXELS // (tile_h + 2 * PADDING) - PADDING) // (tile_w + PADDING)))
    rows = max(1, (MAX_PIXELS // (columns * (tile_w + PADDING) + PADDING) - PADDING) // (tile_h + PADDING))
    return min(n, rows * columns), tile_h, tile_w, columns


def _tile(height, width, factor):
    return max(1, round(height * factor)), max(1, round(width * factor))


def _pixels(n, columns, tile_h, tile_w):
    rows = math.ceil(n / columns)
    return (columns * (tile_w + PADDING) + PADDING) * (rows * (tile_h + PADDING) + PADDING)


def tile_origin(index, nrow, tile_h, tile_w, padding=PADDING):
    """Top-left pixel of tile `index` inside make_grid's output."""
    row, col = divmod(index, nrow)
    return col * (tile_w + padding) + padding, row * (tile_h + padding) + padding


def layout_grid(images, nrow=8, mean=None, std=None):
    """Caller's thread: (N,1|3,H,W) tensor -> (uint8 (3,H',W') grid on the same device, tile_h,
    tile_w, columns) of the first grid_plan(...)[0] images (the caller cuts the labels to match)."""
    import torch
    from torchvision.utils import make_grid

    shown, tile_h, tile_w, columns = grid_plan(images.shape[0], images.shape[2], images.shape[3], nrow)
    tiles, height, width = images[:shown], images.shape[2], images.shape[3]
    shrink = (tile_h, tile_w) != (height, width) and tile_h <= height
    if images.dtype != torch.uint8 or mean is not None or std is not None or shrink:
        tiles = to_unit_float(tiles, mean, std).mul_(255).round_().to(torch.uint8)   # else as given
    if shrink:   # too big: average the pixels (in float: area interpolation needs it)
        tiles = torch.nn.functional.interpolate(tiles.float(), size=(tile_h, tile_w), mode="area")
        tiles = tiles.round_().to(torch.uint8)
    elif tile_h > height:   # nearest-neighbour upscale: every pixel becomes a block
        tiles = tiles.repeat_interleave(tile_h // height, dim=2).repeat_interleave(tile_w // width, dim=3)
    grid = make_grid(tiles, nrow=columns, padding=PADDING, pad_value=255)   # white padding, RGB
    if tiles.shape[0] == 1:   # make_grid returns a lone image unpadded; keep one layout for every N
        grid = torch.nn.functional.pad(grid, (PADDING,) * 4, value=255)
    return grid, tile_h, tile_w, columns


def draw_labels(grid, tile_h, tile_w, nrow, labels=None, preds=None):
    """Sender thread: uint8 (3,H,W) grid tensor -> uint8 (H,W,3) array with each tile's label drawn."""
    picture = Image.fromarray(np.ascontiguousarray(grid.cpu().numpy().transpose(1, 2, 0)))
    if labels is not None or preds is not None:
        _draw_labels(picture, tile_h, tile_w, nrow, labels, preds)
    return np.asarray(picture)


def _draw_labels(picture, tile_h, tile_w, nrow, labels, preds):
    draw = ImageDraw.Draw(picture)
    font = ImageFont.load_default(size=max(12, tile_h // 6))
    count = len(labels) if labels is not None else len(preds)
    for i in range(count):
        x0, y0 = tile_origin(i, nrow, tile_h, tile_w)
        truth = None if labels is None else str(labels[i])
        guess = None if preds is None else str(preds[i])
        wrong = truth is not None and guess is not None and truth != guess
        if wrong:
            caption, color = f"{guess} (true {truth})", RED
            # The frame sits in the padding around the tile, so no image pixel is hidden.
            draw.rectangle([x0 - PADDING, y0 - PADDING, x0 + tile_w + PADDING - 1,
                            y0 + tile_h + PADDING - 1], outline=RED, width=PADDING)
        elif guess is not None:
            caption, color = guess, GREEN if truth is not None else WHITE
        else:
            caption, color = truth, WHITE
        box = draw.textbbox((x0 + 2, y0 + 1), caption, font=font)
        draw.rectangle([box[0] - 1, box[1] - 1, box[2] + 1, box[3] + 1], fill=(0, 0, 0))
        draw.text((x0 + 2, y0 + 1), caption, fill=color, font=font)


def png_data_url(array):
    """uint8 (H, W, 3) array -> 'data:image/png;base64,...' as Visdom's image panes expect."""
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")
