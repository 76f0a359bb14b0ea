"""SummaryWriter: torch.utils.tensorboard's writer interface, streaming to Visdom via VisdomLogger.

Code written for TensorBoard changes one import. Mapping (see README "TensorBoard code"):
    add_scalar("Loss/train", v)       -> window "Loss", trace "train" (first "/" splits window|trace)
    add_scalar("lr", v)               -> window "lr", trace "lr"
    add_scalars("Loss", {"a": v, ...}) -> window "Loss", traces "a", ...
    add_image(s) / add_figure         -> an image pane per tag ("/" -> "_"), titled with the step
    add_text                          -> a text pane per tag, newest entry first
    add_histogram                     -> a heatmap pane per tag: value bins (y) against step (x)
    add_hparams                       -> a text pane "hparams" with both tables
x is the step; global_step=None means the next step of that tag (0 first).
"""

import html
import os
import socket
import warnings
from datetime import datetime

import numpy as np
import torch

from vizlab.integrations import visdom_address, window_name
from vizlab.logger import VisdomLogger
from vizlab.settings_table import log_settings

TEXT_KEEP = 50          # text entries shown per tag (the journal keeps all)
HISTOGRAM_STEPS = 200   # steps kept per histogram heatmap (older ones thinned out)
HISTOGRAM_ROWS = 40     # value bins of the heatmap
# Methods of torch's writer with no Visdom counterpart here -> what to use instead.
NOT_IMPLEMENTED = {
    "add_graph": "print(model) into add_text, or torchinfo's summary",
    "add_embedding": "a 2-D projection (e.g. sklearn TSNE) drawn with add_figure",
    "add_pr_curve": "sklearn.metrics.precision_recall_curve drawn with add_figure",
    "add_pr_curve_raw": "a precision/recall plot drawn with add_figure",
    "add_mesh": "a matplotlib 3-D plot with add_figure",
    "add_audio": "a spectrogram with add_image or add_figure",
    "add_video": "add_images of selected frames",
    "add_custom_scalars": "add_scalars or tags sharing a 'Window/' prefix (one window, several traces)",
    "add_custom_scalars_multilinechart": "add_scalars or tags sharing a 'Window/' prefix",
    "add_custom_scalars_marginchart": "add_scalars with the bounds as extra traces",
    "add_onnx_graph": "print the model into add_text",
    "add_openvino_graph": "print the model into add_text",
    "add_histogram_raw": "add_histogram with the raw values",
    "add_tensor": "add_text of the tensor's repr, or add_scalar per element",
}


def default_log_dir(comment=""):
    """TensorBoard's own default: runs/<Mon DD_HH-MM-SS>_<host><comment>."""
    return os.path.join("runs", datetime.now().strftime("%b%d_%H-%M-%S") + "_" + socket.gethostname() + comment)


def split_tag(tag):
    """'Loss/train' -> ('Loss', 'train'); 'a/b/c' -> ('a', 'b/c'); 'lr' -> ('lr', 'lr')."""
    if not isinstance(tag, str) or not tag.strip():
        raise ValueError(f"tag must be a non-empty string, got {tag!r}")
    window, _, trace = tag.partition("/")
    if window.strip() and trace.strip():
        return window_name(window), trace
    return window_name(tag), tag


class SummaryWriter:
    """torch.utils.tensorboard.SummaryWriter's methods, same arguments, drawn in Visdom."""

    def __init__(self, log_dir=None, comment="", purge_step=None, max_queue=10, flush_secs=120,
                 filename_suffix="", *, server=None, port=None, env=None):
        # max_queue / flush_secs are TensorBoard's buffering knobs: the logger sends every 0.5 s
        # on its own thread anyway, so they are accepted and have no effect.
        self.log_dir = str(log_dir) if log_dir is not None else default_log_dir(comment)
        if purge_step is not None:
            warnings.warn(f"purge_step={purge_step}: Visdom windows cannot drop points; steps >= "
                          f"{purge_step} logged again are added beside the old ones", stacklevel=2)
        env = env or window_name(os.path.basename(os.path.normpath(os.path.abspath(self.log_dir))))
        server, port = visdom_address(server, port)
        journal = os.path.join(self.log_dir, f"vizlab{filename_suffix}.jsonl")
        self.logger = VisdomLogger(env=env, server=server, port=port, journal=journal)
        self._steps = {}         # tag -> last step, for global_step=None
        self._texts = {}         # tag -> [(step, text)], newest last
        self._histograms = {}    # tag -> [(step, bin edges, cumulative counts)]

    def get_logdir(self):
        return self.log_dir

    # ------------------------------------------------------------------ scalars

    def add_scalar(self, tag, scalar_value, global_step=None, walltime=None, new_style=False,
                   double_precision=False):
        window, trace = split_tag(tag)
        self._scalars(window, self._step(tag, global_step), {trace: scalar_value})

    def add_scalars(self, main_tag, tag_scalar_dict, global_step=None, walltime=None):
        if not isinstance(tag_scalar_dict, dict) or not tag_scalar_dict:
            raise TypeError(f"add_scalars({main_tag!r}, ...): tag_scalar_dict must be a non-empty dict "
                            f"of name -> number, got {tag_scalar_dict!r}")
        self._scalars(window_name(main_tag), self._step(main_tag, global_step),
                      {str(k): v for k, v in tag_scalar_dict.items()})

    def _scalars(self, window, step, values):
        self.logger.scalars(window, step, values)   # titled and labelled by the window model's defaults

    def _step(self, tag, global_step):
        if global_step is None:
            step = self._steps.get(tag, -1) + 1
        else:
            step = int(global_step)   # ints, NumPy ints and one-element tensors alike
        self._steps[tag] = step
        return step

    # ------------------------------------------------------------------ images, figures, text

    def add_image(self, tag, img_tensor, global_step=None, walltime=None, dataformats="CHW"):
        self._images(tag, to_nchw(img_tensor, dataformats, "add_image"), global_step)

    def add_images(self, tag, img_tensor, global_step=None, walltime=None, dataformats="NCHW"):
        self._images(tag, to_nchw(img_tensor, dataformats, "add_images"), global_step)

    def add_figure(self, tag, figure, global_step=None, close=True, walltime=None):
        """A matplotlib figure (or a list of them), rendered with the headless Agg canvas."""
        figures = figure if isinstance(figure, (list, tuple)) else [figure]
        images = [figure_to_array(f, close) for f in figures]
        if len({im.shape for im in images}) > 1:
            raise ValueError(f"add_figure({tag!r}): figures in one call must have the same size")
        self._images(tag, torch.from_numpy(np.stack(images)).permute(0, 3, 1, 2), global_step)

    def _images(self, tag, images, global_step):
        step = self._step(tag, global_step)
        self.logger.images(window_name(tag), images, nrow=min(8, len(images)),
                           title=f"{tag} (step {step})")

    def add_text(self, tag, text_string, global_step=None, walltime=None):
        if not isinstance(text_string, str):
            raise TypeError(f"add_text({tag!r}): text_string must be a str, got {type(text_string).__name__}")
        step = self._step(tag, global_step)
        entries = self._texts.setdefault(tag, [])
        entries.append((step, text_string))
        del entries[:-TEXT_KEEP]
        body = "".join(f"<p><b>step {s}</b></p><pre>{html.escape(t)}</pre>" for s, t in reversed(entries))
        self.logger.text(window_name(tag), body, title=tag)

    # ------------------------------------------------------------------ histograms, hparams

    def add_histogram(self, tag, values, global_step=None, bins="tensorflow", walltime=None, max_bins=None):
        values = plain_values(values, tag)
        step = self._step(tag, global_step)
        nbins = 64 if bins == "tensorflow" else bins   # TensorBoard's own default is about 30-60 buckets
        counts, edges = np.histogram(values, bins=nbins)
        history = self._histograms.setdefault(tag, [])
        history.append((step, edges, np.concatenate([[0], np.cumsum(counts)])))
        if len(history) > HISTOGRAM_STEPS:
            history[:] = history[:-1][::2] + history[-1:]   # halve the older steps, keep the latest
        rows = max_bins or HISTOGRAM_ROWS
        self.logger.figure(window_name(tag), *histogram_heatmap(tag, history, rows), title=tag)

    def add_hparams(self, hparam_dict, metric_dict, hparam_domain_discrete=None, run_name=None,
                    global_step=None):
        if not isinstance(hparam_dict, dict) or not isinstance(metric_dict, dict):
            raise TypeError("add_hparams: hparam_dict and metric_dict must be dicts")
        for key, value in hparam_dict.items():
            if not isinstance(value, (int, float, str, bool, torch.Tensor)) and value is not None:
                raise ValueError(f"add_hparams: value of {key!r} is {type(value).__name__}; "
                                 "use int, float, str, bool or a one-element tensor")
        metrics = {k: v.item() if isinstance(v, torch.Tensor) else v for k, v in metric_dict.items()}
        log_settings(self.logger, "hparams", {"hyperparameters": hparam_dict, "metrics": metrics},
                     title=f"hparams{f' ({run_name})' if run_name else ''}")

    # ------------------------------------------------------------------ lifetime

    def flush(self, *, timeout=10):
        """Wait until everything so far is on the server (True) or in the journal (False)."""
        return self.logger.flush(timeout)

    def close(self):
        self.logger.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __getattr__(self, name):
        if name in NOT_IMPLEMENTED:
            def unsupported(*args, **kwargs):
                raise NotImplementedError(f"vizlab's SummaryWriter has no {name}; use {NOT_IMPLEMENTED[name]}")
            return unsupported
        raise AttributeError(f"'SummaryWriter' object has no attribute {name!r}")


def to_nchw(img, dataformats, method):
    """An image (batch) in any of TensorBoard's layouts -> (N, 1|3, H, W) tensor."""
    if isinstance(img, np.ndarray):
        img = torch.from_numpy(np.ascontiguousarray(img))
    if not isinstance(img, torch.Tensor):
        raise TypeError(f"{method}: img_tensor must be a tensor or NumPy array, got {type(img).__name__}")
    fmt = dataformats.upper() if isinstance(dataformats, str) else ""
    if not (set(fmt) <= set("NCHW") and len(set(fmt)) == len(fmt) == img.ndim and {"H", "W"} <= set(fmt)):
        raise ValueError(f"{method}: dataformats={dataformats!r} does not fit a tensor of shape "
                         f"{tuple(img.shape)}; use e.g. 'CHW', 'HWC', 'HW' (one image) or 'NCHW', 'NHWC'")
    img = img.detach().cpu()
    for axis in "NC":
        if axis not in fmt:
            img, fmt = img.unsqueeze(0), axis + fmt
    img = img.permute(*(fmt.index(a) for a in "NCHW"))
    if img.shape[1] == 4:
        img = img[:, :3]   # RGBA: Visdom shows RGB
    if img.dtype not in (torch.uint8,) and not img.is_floating_point():
        img = img.float()
    if img.shape[1] not in (1, 3):
        raise ValueError(f"{method}: images must have 1, 3 or 4 channels, got {img.shape[1]}")
    return img


def figure_to_array(figure, close):
    """RGB uint8 (H, W, 3) of a matplotlib figure via the Agg canvas (no display needed)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg   # matplotlib only when used
    canvas = FigureCanvasAgg(figure)
    canvas.draw()
    image = np.asarray(canvas.buffer_rgba())[..., :3].copy()
    if close:
        import matplotlib.pyplot as plt
        plt.close(figure)
    return image


def plain_values(values, tag):
    if isinstance(values, torch.Tensor):
        values = values.detach().cpu().double().numpy()
    values = np.asarray(values, dtype=float).reshape(-1)
    values = values[np.isfinite(values)]
    if values.size == 0:
        raise ValueError(f"add_histogram({tag!r}): no finite values to count")
    return values


def histogram_heatmap(tag, history, rows):
    """Each step's counts re-binned onto one common value grid, so the steps line up."""
    low = min(edges[0] for _, edges, _ in history)
    high = max(edges[-1] for _, edges, _ in history)
    grid = np.linspace(low, high if high > low else low + 1, rows + 1)
    columns = [np.diff(np.interp(grid, edges, cumulative)) for _, edges, cumulative in history]
    steps = [step for step, _, _ in history]
    trace = {"type": "heatmap", "x": steps, "y": ((grid[:-1] + grid[1:]) / 2).tolist(),
             "z": np.stack(columns, axis=1).round(3).tolist(), "colorscale": "Viridis",
             "colorbar": {"title": "count"}}
    layout = {"title": f"{tag} (latest step {steps[-1]})", "xaxis": {"title": "step"},
              "yaxis": {"title": "value"}}
    return [trace], layout
