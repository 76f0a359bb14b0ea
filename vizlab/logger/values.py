"""The values people have, as the logging core takes them: images in any of TensorBoard's layouts
(dataformats=), PIL images and lists of them, matplotlib figures (rendered to pixels) and Plotly
figure objects (to trace dicts). SummaryWriter's add_images/add_figure use the same functions.
Pillow, matplotlib and Plotly are never imported here: a value is recognised by what it offers.
"""

import base64

import numpy as np
import torch

from vizlab.logger.checks import readable

DATAFORMATS = ("NCHW", "NHWC", "CHW", "HWC", "HW")


def to_nchw(img, dataformats="NCHW", method=None, ints_as_float=False):
    """An image, a batch, a PIL image or a list of PIL images -> (N, 1|3, H, W) tensor, detached
    (RGBA: its RGB). A PIL image knows its layout: dataformats is then not needed. Integer images
    other than uint8 are refused (ints_as_float: taken as floats in 0..1, as TensorBoard does)."""
    where = f"{method}: " if method else ""   # the SummaryWriter method, for its messages
    img, dataformats = _pil(img, dataformats)
    if isinstance(img, np.ndarray):
        img = torch.from_numpy(np.ascontiguousarray(img))
    if not isinstance(img, torch.Tensor):
        raise TypeError(f"{where}images must be a tensor, NumPy array, PIL image or list of PIL "
                        f"images, got {type(img).__name__}")
    readable("images", img)   # a meta tensor: refused here, not dropped by the journal thread
    fmt = dataformats.upper() if isinstance(dataformats, str) else ""
    shape = tuple(img.shape)
    if not (set(fmt) <= set("NCHW") and len(set(fmt)) == len(fmt) and {"H", "W"} <= set(fmt)):
        raise ValueError(f"{where}images: dataformats={dataformats!r}: use one of {', '.join(DATAFORMATS)}")
    if len(fmt) != img.ndim:
        raise ValueError(f"{where}images: dataformats={dataformats!r} does not fit a tensor of shape "
                         f"{shape}{_hint(shape)}")
    img = img.detach()
    for axis in "NC":
        if axis not in fmt:
            img, fmt = img.unsqueeze(0), axis + fmt
    img = img.permute(*(fmt.index(a) for a in "NCHW"))
    if img.shape[1] == 4:
        img = img[:, :3]   # RGBA: Visdom shows RGB
    if img.shape[1] not in (1, 3) or 0 in img.shape:
        raise ValueError(f"{where}images must have 1, 3 or 4 channels and no empty side: {shape} as "
                         f"{dataformats} has {img.shape[1]} channels, H {img.shape[2]}, W {img.shape[3]}"
                         + (_hint(shape) if dataformats.upper() == "NCHW" else ""))
    if ints_as_float and img.dtype != torch.uint8 and not img.is_floating_point():
        img = img.float()
    if not (img.dtype == torch.uint8 or img.is_floating_point()):
        raise TypeError(f"{where}images must be float (0..1, or normalized with mean/std) or uint8, "
                        f"got {img.dtype}: convert with x.float() / 255 or x.to(torch.uint8)")
    return img


def _hint(shape):
    """The layout a shape looks like, and how to pass it."""
    shape, rgb = tuple(shape), (1, 3, 4)
    if len(shape) == 4 and shape[1] not in rgb and shape[3] in rgb:
        return f"; {shape} looks like NHWC: pass dataformats='NHWC' or x.permute(0, 3, 1, 2)"
    if len(shape) == 3 and shape[0] in rgb:
        return f"; {shape} looks like one CHW image: pass dataformats='CHW' or x[None]"
    if len(shape) == 3 and shape[2] in rgb:
        return f"; {shape} looks like one HWC image: pass dataformats='HWC' or x.permute(2, 0, 1)[None]"
    if len(shape) == 3:
        return f"; {shape} looks like N grey images: x[:, None] makes them (N, 1, H, W)"
    if len(shape) == 2:
        return f"; {shape} looks like one grey image: pass dataformats='HW'"
    return ""


def _is_pil(value):
    return hasattr(value, "getbands") and hasattr(value, "convert") and hasattr(value, "mode")


def _pil(img, dataformats):
    """A PIL image -> (H, W[, C]) array; a list of them -> (N, H, W, C) (one size for all)."""
    images = img if isinstance(img, (list, tuple)) and img and all(map(_is_pil, img)) else None
    if images is None and not _is_pil(img):
        return img, dataformats
    arrays = [np.asarray(_rgb(i)) for i in (images or [img])]
    if len({a.shape for a in arrays}) > 1:
        raise ValueError(f"the PIL images differ in size ({', '.join(str(a.shape) for a in arrays[:3])}...): "
                         "resize them to one size (image.resize) or log them one by one")
    batch = np.stack([a if a.ndim == 3 else a[..., None] for a in arrays])
    return batch, "NHWC"


def _rgb(image):
    return image if image.mode in ("L", "RGB", "RGBA") else image.convert("RGBA" if "A" in image.getbands() else "RGB")


def figure_pixels(figure, close=False):
    """RGB uint8 (H, W, 3) of a matplotlib figure via the Agg canvas (no display needed)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg   # only for a matplotlib figure
    canvas = FigureCanvasAgg(figure)
    canvas.draw()
    image = np.asarray(canvas.buffer_rgba())[..., :3].copy()
    if close:
        import matplotlib.pyplot as plt
        plt.close(figure)
    return image


def is_matplotlib_figure(value):
    return type(value).__module__.startswith("matplotlib.") and hasattr(value, "savefig") \
        and hasattr(value, "canvas")


def plotly_parts(figure):
    """(traces, layout) of a Plotly figure object or a figure dict {"data": ..., "layout": ...};
    None when `figure` is neither."""
    if hasattr(figure, "to_plotly_json") and hasattr(figure, "layout"):
        figure = figure.to_plotly_json()
    if isinstance(figure, dict) and "data" in figure and set(figure) <= {"data", "layout", "frames"}:
        return list(_arrays(figure["data"])), dict(_arrays(figure.get("layout") or {}))
    return None


def _arrays(value):
    """Plotly >= 6 writes NumPy data as typed arrays ({"dtype", "bdata"[, "shape"]}), which
    Visdom's plotly.js (2.11) cannot read: back to plain arrays."""
    if isinstance(value, dict):
        if set(value) <= {"dtype", "bdata", "shape"} and {"dtype", "bdata"} <= set(value):
            array = np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"])
            shape = value.get("shape")
            if shape:
                array = array.reshape([int(n) for n in str(shape).split(",")])
            return array
        return {k: _arrays(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_arrays(v) for v in value]
    return value
