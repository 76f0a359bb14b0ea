"""wandb's media types (`wandb.Image`, `Histogram`, `Table`, `Html`) and how each is drawn through a
vizlab SummaryWriter: images as image panes (a list under one key: one grid, captions on the tiles),
histograms as the writer's step heatmaps, tables and HTML as text panes.

Images are made as wandb makes them: a tensor is min-max normalised (torchvision's make_grid with
normalize=True, wandb's default); a float array in [0, 1] is scaled by 255, one in [-1, 1] from -1..1,
anything else clipped to 0..255; PIL images and file paths are read with Pillow.
"""

import os

import numpy as np
import torch

from vizlab.integrations.tensorboard_images import figure_to_array, rgb_uint8, same_size
from vizlab.integrations.tensorboard_panes import as_array, table_html

TABLE_ROWS = 200   # rows a table pane shows (the first ones)


class Image:
    """wandb.Image(data_or_path, mode=None, caption=None, ...): a tensor (CHW or HW), array (HWC or
    HW), PIL image, matplotlib figure or file path. boxes= and masks= are not drawn."""

    def __init__(self, data_or_path, mode=None, caption=None, grouping=None, classes=None, boxes=None,
                 masks=None, file_type=None, normalize=True, **_):
        self.caption = None if caption is None else str(caption)
        self.pixels = image_pixels(data_or_path, normalize)   # read now: the caller may change its tensor


class Histogram:
    """wandb.Histogram(sequence, num_bins=64) or Histogram(np_histogram=(counts, edges))."""

    def __init__(self, sequence=None, np_histogram=None, num_bins=64):
        if np_histogram is not None:
            counts, edges = (as_array(a).reshape(-1) for a in np_histogram)
            if edges.size != counts.size + 1:
                raise ValueError(f"wandb.Histogram: np_histogram=(counts, bin_edges) needs one edge more than "
                                 f"counts, got {counts.size} counts and {edges.size} edges")
        elif sequence is not None:
            values = as_array(sequence).reshape(-1)
            values = values[np.isfinite(values)]
            if values.size == 0:
                raise ValueError("wandb.Histogram: no finite values to count")
            counts, edges = np.histogram(values, bins=num_bins)
        else:
            raise ValueError("wandb.Histogram: give a sequence of values or np_histogram=(counts, bin_edges)")
        self.counts, self.edges = counts, edges


class Table:
    """wandb.Table(columns=None, data=None, dataframe=None): drawn as an HTML table (its latest state)."""

    def __init__(self, columns=None, data=None, rows=None, dataframe=None, **_):
        if dataframe is not None:
            columns, data = list(dataframe.columns), dataframe.values.tolist()
        self.data = [list(row) for row in (data if data is not None else rows or [])]
        width = len(self.data[0]) if self.data else 0
        self.columns = list(columns) if columns is not None else [f"col{i + 1}" for i in range(width)]

    def add_data(self, *values):
        if len(values) != len(self.columns):
            raise ValueError(f"wandb.Table.add_data: {len(values)} values for {len(self.columns)} columns")
        self.data.append(list(values))

    def html(self):
        rows = [[cell_text(v) for v in row] for row in self.data[:TABLE_ROWS]]
        more = len(self.data) - TABLE_ROWS
        return table_html(self.columns, rows) + (f"<p>... and {more} more rows</p>" if more > 0 else "")


class Html:
    """wandb.Html(data, inject=True): an HTML string or an open file / path of one."""

    def __init__(self, data, inject=True, **_):
        if hasattr(data, "read"):
            data = data.read()
        elif isinstance(data, os.PathLike) or (isinstance(data, str) and data.endswith((".html", ".htm"))
                                                and os.path.isfile(data)):
            with open(data, encoding="utf-8") as f:
                data = f.read()
        if not isinstance(data, str):
            raise TypeError(f"wandb.Html: data must be an HTML string, a file or a path, got {type(data).__name__}")
        self.html = data


MEDIA = (Image, Histogram, Table, Html)


def cell_text(value):
    if isinstance(value, Image):
        return f"[image{': ' + value.caption if value.caption else ''}]"
    return value.item() if isinstance(value, torch.Tensor) and value.numel() == 1 else value


def image_pixels(data, normalize=True):
    """Whatever wandb.Image takes -> uint8 (H, W, 3), as wandb renders it."""
    if isinstance(data, torch.Tensor):
        from torchvision.utils import make_grid
        tensor = data.detach().cpu()
        tensor = tensor.float() if tensor.dtype == torch.uint8 or not tensor.is_floating_point() else tensor
        if tensor.ndim not in (2, 3) or (tensor.ndim == 3 and tensor.shape[0] not in (1, 3, 4)):
            raise ValueError(f"wandb.Image: a tensor of shape {tuple(data.shape)}; use (C, H, W) with C = 1, 3 "
                             "or 4, or (H, W)")
        grid = make_grid(tensor[:3] if tensor.ndim == 3 else tensor, normalize=normalize, padding=0)
        if not normalize and data.dtype == torch.uint8:
            grid = grid / 255
        return grid.mul(255).clamp(0, 255).round().to(torch.uint8).permute(1, 2, 0).numpy()
    if hasattr(data, "savefig"):   # a matplotlib figure
        return figure_to_array(data, close=False)
    if isinstance(data, np.ndarray):
        array = np.squeeze(data) if data.ndim > 3 else data
        if array.ndim == 3 and array.shape[0] in (1, 3, 4) and array.shape[-1] not in (1, 3, 4):
            array = array.transpose(1, 2, 0)   # CHW
        return rgb_uint8(to_0_255(array), "wandb.Image")
    return rgb_uint8(data, "wandb.Image")


def to_0_255(array):
    """wandb's rule for arrays: uint8 as is, floats in [0, 1] x255, in [-1, 1] from -1..1, else clipped."""
    if array.dtype == np.uint8:
        return array
    values = np.nan_to_num(array.astype(np.float64))
    low, high = (values.min(), values.max()) if values.size else (0, 0)
    if np.issubdtype(array.dtype, np.floating) and low >= 0 and high <= 1:
        values = values * 255
    elif np.issubdtype(array.dtype, np.floating) and low >= -1 and high <= 1:
        values = (values + 1) * 127.5
    return np.clip(values, 0, 255).round().astype(np.uint8)


def draw(writer, key, value, step):
    """One media value (or a list of images) of `key` at `step` on SummaryWriter `writer`."""
    if isinstance(value, (Image, list, tuple)):   # a list of images: one grid, captions on the tiles
        images = [value] if isinstance(value, Image) else value
        captions = [im.caption or "" for im in images]
        one = len(images) == 1
        writer._images("image", key, same_size([im.pixels for im in images]), step,
                       labels=captions if any(captions) and not one else None,
                       **({"caption": captions[0]} if one and captions[0] else {}))
    elif isinstance(value, Histogram):
        writer._histogram(key, step, value.edges, value.counts, None)
    elif isinstance(value, Table):
        step = writer._step(key, step)
        win = writer._window("table", key)
        writer.text(win, value.html(), title=writer._title(win, step))
    elif isinstance(value, Html):
        step = writer._step(key, step)
        win = writer._window("html", key)
        writer.text(win, value.html, title=writer._title(win, step))


def is_image_list(value):
    return isinstance(value, (list, tuple)) and value and all(isinstance(v, Image) for v in value)
