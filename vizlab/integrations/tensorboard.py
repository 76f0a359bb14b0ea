"""SummaryWriter: torch.utils.tensorboard's writer interface, streaming to Visdom via VisdomLogger.

Code written for TensorBoard changes one import. Every add_* method of torch's writer is here with
the same arguments (README "TensorBoard code" maps each to its pane). Scalar tags follow the naming
rule of vizlab.integrations.naming.tag_window: 'Loss/train' and 'train/loss' both give window 'Loss'/'loss'
with trace 'train'. A tag never silently replaces another: a name already used by another kind of
pane gets a window of its own, '<name>_<kind>', titled '<tag> (<kind>)'.
x is the step; global_step=None means the next step of that tag (0 first).
Like torch's writer, logging after close() reopens (the journal continues); flush() makes the
journal durable and returns without waiting on the network (flush(timeout=s) also waits for Visdom).
"""

import html
import os
import socket
import warnings
from datetime import datetime

import numpy as np
import torch

from vizlab.address import visdom_address
from vizlab.integrations import tensorboard_panes as panes
from vizlab.integrations.tensorboard_panes import histogram_heatmap, plain_values
from vizlab.integrations.naming import folder_run, tag_window, window_name
from vizlab.logger import VisdomLogger
from vizlab.integrations.tensorboard_custom import Chart, backfill, parse_layout
from vizlab.integrations.tensorboard_images import ImageMethods, to_nchw   # noqa: F401 (to_nchw: public helper)

TEXT_KEEP = 50          # text entries shown per tag (the journal keeps all)
HISTOGRAM_STEPS = 200   # steps kept per histogram heatmap (older ones thinned out)
HISTOGRAM_ROWS = 40     # value bins of the heatmap
EMBEDDING_STEPS = 10    # steps an embedding window keeps for its slider (the journal keeps all)
# The VisdomLogger's own calls, answered by the writer too (Lightning's `experiment` is a writer).
LOGGER_API = ("scalar", "scalars", "line", "images", "text", "figure", "window", "journal_offset",
              "stats", "watch_system", "journal_path", "env")


def default_log_dir(comment=""):
    """TensorBoard's own default: runs/<Mon DD_HH-MM-SS>_<host><comment>."""
    return os.path.join("runs", datetime.now().strftime("%b%d_%H-%M-%S") + "_" + socket.gethostname() + comment)


split_tag = tag_window   # the name this module had for it


class SummaryWriter(ImageMethods):
    """torch.utils.tensorboard.SummaryWriter's methods, same arguments, drawn in Visdom."""

    def __init__(self, log_dir=None, comment="", purge_step=None, max_queue=10, flush_secs=120,
                 filename_suffix="", *, server=None, port=None, env=None, journal=None, **logger_options):
        # max_queue / flush_secs are TensorBoard's buffering knobs: the logger journals every 0.5 s
        # and sends on its own thread anyway, so they are accepted and have no effect.
        self.log_dir = str(log_dir) if log_dir is not None else default_log_dir(comment)
        if purge_step is not None:
            warnings.warn(f"purge_step={purge_step}: Visdom windows cannot drop points; steps >= "
                          f"{purge_step} logged again are added beside the old ones", stacklevel=2)
        # a run's env is its own: a generic folder name takes its parent's, a folder reused a number
        own_env, own_journal = folder_run(self.log_dir, f"vizlab{filename_suffix}")
        self.env = env or own_env
        self._server, self._port = visdom_address(server, port)
        self._journal = own_journal if journal is None else journal
        self._options = logger_options
        self._logger, self._opened = None, False
        self._steps = {}         # tag -> last step, for global_step=None
        self._texts = {}         # window -> [(step, html)], newest last
        self._histograms = {}    # window -> [(step, bin edges, cumulative counts)]
        self._pr = {}            # window -> [(step, precision, recall)]
        self._embeddings = {}    # window -> [(step, traces, layout)]: the slider's steps
        self._owners = {}        # window -> who has it: "line", or (kind, tag)
        self._claims = {}        # (kind, tag) -> window
        self._labels = {}        # window -> the tag, with its kind when it had to be renamed
        self._routes = {}        # scalar tag -> (window, trace)
        self._traces = {}        # (window, trace) -> the tag that has it
        self._charts = []        # add_custom_scalars charts
        self.logger              # opened now, as torch's writer creates its files at once

    @property
    def logger(self):
        """The VisdomLogger; after close() a new one, continuing the same journal and windows."""
        if self._logger is None:
            self._logger = self._open()
            self._opened = True
        return self._logger

    def _open(self):
        options = dict(env=self.env, server=self._server, port=self._port, journal=self._journal, **self._options)
        if self._opened and self._journal and os.path.isfile(self._journal):
            try:   # resume_from= the journal's end: its windows come back, the run goes on
                return VisdomLogger(**options, resume_from=os.path.getsize(self._journal))
            except ValueError as err:
                warnings.warn(f"could not continue {self._journal} ({err}); windows start afresh", stacklevel=3)
        return VisdomLogger(**options)

    def get_logdir(self):
        return self.log_dir

    def __getattr__(self, name):
        if name in LOGGER_API:
            return getattr(self.logger, name)
        raise AttributeError(f"'SummaryWriter' object has no attribute {name!r}")

    # ------------------------------------------------------------------ windows: one per tag and kind

    def _window(self, kind, tag, base=None):
        """The window for `tag` shown as `kind`; '<base>_<kind>' when another kind or tag has <base>."""
        win = self._claims.get((kind, tag))
        if win is not None:
            return win
        base = base or window_name(tag)
        owner = "line" if kind == "scalars" else (kind, tag)
        win, n = base, 1
        while self._owners.setdefault(win, owner) != owner:
            n += 1
            win = f"{base}_{kind}" + (str(n - 1) if n > 2 else "")
        self._claims[(kind, tag)] = win
        self._labels[win] = tag if win == base else f"{tag} ({kind})"
        if kind == "scalars" and win != base:
            self.logger.window(win, "line", title=self._labels[win])
        return win

    def _title(self, win, step=None):
        return self._labels[win] + ("" if step is None else f" (step {step})")

    def _step(self, tag, global_step):
        if global_step is None:
            step = self._steps.get(tag, -1) + 1
        else:
            step = int(global_step)   # ints, NumPy ints and one-element tensors alike
        self._steps[tag] = step
        return step

    # ------------------------------------------------------------------ scalars

    def add_scalar(self, tag, scalar_value, global_step=None, walltime=None, new_style=False,
                   double_precision=False):
        step = self._step(tag, global_step)
        where = self._routes.get(tag)
        if where is None or self._charts:
            self.add_metrics({tag: scalar_value}, step)
        else:   # the common call: a tag seen before, straight to the logger's fast path
            self.logger.scalar(where[0], step, scalar_value, trace=where[1])

    def add_scalars(self, main_tag, tag_scalar_dict, global_step=None, walltime=None):
        if not isinstance(tag_scalar_dict, dict) or not tag_scalar_dict:
            raise TypeError(f"add_scalars({main_tag!r}, ...): tag_scalar_dict must be a non-empty dict "
                            f"of name -> number, got {tag_scalar_dict!r}")
        step = self._step(main_tag, global_step)
        self.add_metrics({f"{main_tag}/{k}": v for k, v in tag_scalar_dict.items()}, step,
                         route=lambda tag: (window_name(main_tag), tag[len(main_tag) + 1:]))

    def add_metrics(self, metrics, step, route=tag_window):
        """vizlab's: {tag: number} at one step, each tag to (window, trace) by `route`; the
        integrations use it with their own naming rules."""
        windows = {}
        for tag, value in metrics.items():
            where = self._routes.get(tag)
            if where is None:
                base, trace = route(tag)
                win = self._window("scalars", base, base)
                owner = self._traces.setdefault((win, trace), tag)
                where = self._routes[tag] = (win, trace if owner == tag else tag)
            windows.setdefault(where[0], {})[where[1]] = value
            for chart in self._charts:
                if chart.wants(tag):
                    chart.add(self.logger, tag, step, value)
        for win, values in windows.items():
            self.logger.scalars(win, step, values)   # titled and labelled by the window model's defaults

    def add_custom_scalars(self, layout):
        new = []
        for category, title, kind, tags in parse_layout(layout):
            label = f"{category}: {title}"
            if ("custom", label) in self._claims:   # a layout given again changes nothing (tensorboardX's rule)
                continue
            chart = Chart(self._window("custom", label, window_name(title)), label, kind, tags)
            self._charts.append(chart)
            new.append(chart)
            if kind == "Multiline":
                self.logger.window(chart.win, "line", title=label, xlabel="step")
        backfill(self.logger, new, self._routes)

    def add_custom_scalars_multilinechart(self, tags, category="default", title="untitled"):
        self.add_custom_scalars({category: {title: ["Multiline", tags]}})

    def add_custom_scalars_marginchart(self, tags, category="default", title="untitled"):
        self.add_custom_scalars({category: {title: ["Margin", tags]}})

    # ------------------------------------------------------------------ text, tensors, hparams

    def add_text(self, tag, text_string, global_step=None, walltime=None):
        if not isinstance(text_string, str):
            raise TypeError(f"add_text({tag!r}): text_string must be a str, got {type(text_string).__name__}")
        self._entry("text", tag, global_step, f"<pre>{html.escape(text_string)}</pre>")

    def add_tensor(self, tag, tensor, global_step=None, walltime=None):
        self._entry("tensor", tag, global_step, panes.tensor_html(tensor))

    def _entry(self, kind, tag, global_step, body):
        """A text pane per tag: its entries, newest first."""
        step = self._step(tag, global_step)
        win = self._window(kind, tag)
        entries = self._texts.setdefault(win, [])
        entries.append((step, body))
        del entries[:-TEXT_KEEP]
        self.logger.text(win, "".join(f"<p><b>step {s}</b></p>{b}" for s, b in reversed(entries)),
                         title=self._title(win))

    def add_hparams(self, hparam_dict, metric_dict, hparam_domain_discrete=None, run_name=None,
                    global_step=None):
        if not isinstance(hparam_dict, dict) or not isinstance(metric_dict, dict):
            raise TypeError("add_hparams: hparam_dict and metric_dict must be dicts")
        for key, value in hparam_dict.items():
            if not isinstance(value, (int, float, str, bool, torch.Tensor)) and value is not None:
                raise ValueError(f"add_hparams: value of {key!r} is {type(value).__name__}; "
                                 "use int, float, str, bool or a one-element tensor")
        self.logger.settings(hparam_dict, win=self._window("hparams", "hparams"),
                            title=f"hparams{f' ({run_name})' if run_name else ''}", results=metric_dict)

    # ------------------------------------------------------------------ histograms, PR curves

    def add_histogram(self, tag, values, global_step=None, bins="tensorflow", walltime=None, max_bins=None):
        values = plain_values(values, tag)
        nbins = 64 if bins == "tensorflow" else bins   # TensorBoard's own default is about 30-60 buckets
        counts, edges = np.histogram(values, bins=nbins)
        self._histogram(tag, global_step, edges, counts, max_bins)

    def add_histogram_raw(self, tag, min, max, num, sum, sum_squares, bucket_limits, bucket_counts,
                          global_step=None, walltime=None):
        limits = panes.as_array(bucket_limits).reshape(-1)
        counts = panes.as_array(bucket_counts).reshape(-1)
        if limits.size != counts.size or limits.size == 0:
            raise ValueError(f"add_histogram_raw({tag!r}): bucket_limits and bucket_counts must have the "
                             f"same non-zero length, got {limits.size} and {counts.size}")
        # bucket_limits are right edges; the first bucket starts at min (TensorBoard's layout).
        edges = np.maximum.accumulate(np.clip(np.concatenate([[float(min)], limits]), float(min), float(max)))
        self._histogram(tag, global_step, edges, counts, None)

    def _histogram(self, tag, global_step, edges, counts, max_bins):
        step = self._step(tag, global_step)
        win = self._window("histogram", tag)
        history = self._histograms.setdefault(win, [])
        history.append((step, edges, np.concatenate([[0], np.cumsum(counts)])))
        if len(history) > HISTOGRAM_STEPS:
            history[:] = history[:-1][::2] + history[-1:]   # halve the older steps, keep the latest
        self.logger.figure(win, *histogram_heatmap(self._labels[win], history, max_bins or HISTOGRAM_ROWS),
                           title=self._title(win))

    def add_pr_curve(self, tag, labels, predictions, global_step=None, num_thresholds=127, weights=None,
                     walltime=None):
        precision, recall = panes.pr_counts(labels, predictions, num_thresholds, weights)
        self._pr_curve(tag, global_step, precision, recall)

    def add_pr_curve_raw(self, tag, true_positive_counts, false_positive_counts, true_negative_counts,
                         false_negative_counts, precision, recall, global_step=None, num_thresholds=127,
                         weights=None, walltime=None):
        self._pr_curve(tag, global_step, panes.as_array(precision).reshape(-1), panes.as_array(recall).reshape(-1))

    def _pr_curve(self, tag, global_step, precision, recall):
        step = self._step(tag, global_step)
        win = self._window("pr_curve", tag)
        history = self._pr.setdefault(win, [])
        history.append((step, precision, recall))
        del history[:-panes.PR_STEPS_SHOWN]
        traces, layout = panes.pr_figure(self._labels[win], history)
        self.logger.figure(win, traces, layout, title=self._title(win, step))

    # ------------------------------------------------------------------ structure, embeddings, meshes

    def add_graph(self, model, input_to_model=None, verbose=False, use_strict_trace=True):
        """The module tree: each module's output shape (one forward pass) and parameter count."""
        if not isinstance(model, torch.nn.Module):
            raise TypeError(f"add_graph: model must be a torch.nn.Module, got {type(model).__name__}")
        shapes = panes.module_outputs(model, input_to_model) if input_to_model is not None else {}
        self._pane("graph", "graph", panes.graph_html(model, shapes), f"graph: {type(model).__name__}")

    def add_onnx_graph(self, prototxt):
        self._pane("graph", "onnx", panes.onnx_html(prototxt), f"onnx graph: {os.path.basename(str(prototxt))}")

    def _pane(self, kind, tag, body, title):
        rows = body.count("<tr>")
        self.logger.text(self._window(kind, tag), body, title=title, width=640, height=min(640, 90 + 20 * rows))

    def add_embedding(self, mat, metadata=None, label_img=None, global_step=None, tag="default",
                      metadata_header=None):
        """A 2-D PCA projection of the rows of `mat`, coloured by their metadata, label images on the
        points; from the second step on, a slider chooses the step (the last EMBEDDING_STEPS)."""
        labels = panes.metadata_labels(metadata, len(mat), metadata_header)
        step = self._step(f"embedding:{tag}", global_step)
        win = self._window("embedding", tag, "embedding" if tag == "default" else window_name(tag))
        title = f"{'embedding' if win == 'embedding' else self._labels[win]} (step {step}, PCA)"
        history = self._embeddings.setdefault(win, [])
        history.append((step, *panes.embedding_figure(mat, labels, title, label_img)))
        del history[:-EMBEDDING_STEPS]
        self.logger.figure(win, *panes.stepped_figure(history), title=title)

    def add_mesh(self, tag, vertices, colors=None, faces=None, config_dict=None, global_step=None, walltime=None):
        step = self._step(tag, global_step)
        traces, layout = panes.mesh_figure(tag, vertices, colors, faces, step)
        win = self._window("mesh", tag)
        self.logger.figure(win, traces, dict(layout, title=self._title(win, step)), title=self._title(win, step))

    # ------------------------------------------------------------------ lifetime

    def flush(self, timeout=None):
        """Make the journal durable (handed to the OS) without waiting on the network, as torch's
        flush() is a local one. vizlab's flush(timeout=s): also wait up to s for Visdom; True when
        everything is on the server."""
        if self._logger is None:
            return None if timeout is None else True
        for chart in self._charts:
            chart.draw(self._logger)
        if self._logger.journal_path is not None:
            self._logger.journal_offset()   # waits for the journal thread only
        return None if timeout is None else self._logger.flush(timeout)

    def close(self):
        """Deliver within the logger's close_timeout and stop; logging afterwards reopens."""
        if self._logger is not None:
            for chart in self._charts:
                chart.draw(self._logger)
            self._logger.close()
            self._logger = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
