"""Reference grids for tests: both halves of vizlab.render on one thread, as the logger does them on two."""

import numpy as np
import torch

from vizlab.render import draw_labels, layout_grid


def render_grid(images, labels=None, preds=None, nrow=8, mean=None, std=None):
    """Both halves on one thread: images (tensor or array) -> uint8 (H, W, 3) labelled grid."""
    if isinstance(images, np.ndarray):
        images = torch.from_numpy(np.ascontiguousarray(images))
    grid, tile_h, tile_w, columns = layout_grid(images, nrow, mean, std)
    return draw_labels(grid, tile_h, tile_w, columns, labels, preds)
