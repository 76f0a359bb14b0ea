"""render_grid: the logger's two image halves run on one thread, for tests that check pixels."""

import numpy as np

from vizlab.logger.render import draw_labels, layout_grid


def render_grid(images, labels=None, preds=None, nrow=8, mean=None, std=None):
    """Images (tensor or array) -> uint8 (H, W, 3) labelled grid, as the logger would send it."""
    import torch

    if isinstance(images, np.ndarray):
        images = torch.from_numpy(np.ascontiguousarray(images))
    grid, tile_h, tile_w, columns = layout_grid(images, nrow, mean, std)
    return draw_labels(grid, tile_h, tile_w, columns, labels, preds)
