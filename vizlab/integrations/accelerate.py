"""VizlabTracker: accelerate's tracker API (`Accelerator(log_with=...)`) streaming to Visdom.

    accelerator = Accelerator(log_with=VizlabTracker("glue"))      # a custom tracker is an instance
    accelerator.init_trackers("glue", config=vars(args))           # -> the settings pane
    accelerator.log({"train_loss": loss, "accuracy": acc}, step=epoch)

A thin adapter over a vizlab SummaryWriter (its windows, its naming rule: `train/loss` and `eval/loss`
share window `loss`; a dict is one window with a trace per key, as TensorBoardTracker's add_scalars).
accelerate does not pass the project name to a tracker instance, so the env is `env=`, else
`<run_name>-<start time>`: each run its own env. Only the main process logs (accelerate's
on_main_process, as its own trackers do).
"""

import os
import time

import numpy as np
import torch
from accelerate.tracking import GeneralTracker, on_main_process

from vizlab.integrations.naming import NUMBERS, window_name
from vizlab.integrations.tensorboard import SummaryWriter
from vizlab.integrations.tensorboard_images import rgb_uint8, same_size
from vizlab.integrations.tensorboard_panes import table_html


class VizlabTracker(GeneralTracker):
    """accelerate's GeneralTracker for Visdom: log, log_images, log_table, store_init_configuration."""

    name = "vizlab"
    requires_logging_directory = False

    def __init__(self, run_name="accelerate", env=None, logging_dir="runs", server=None, port=None,
                 **logger_options):
        super().__init__()
        started = time.strftime("%Y%m%d-%H%M%S")
        self.run_name = run_name
        self.env = env or window_name(f"{run_name}-{started}")
        self.logging_dir = os.path.join(os.fspath(logging_dir), self.env)
        self._options = dict(env=self.env, server=server, port=port, **logger_options)
        self.writer = None

    @on_main_process
    def start(self):
        """Called by init_trackers (on the main process): the run's writer opens here."""
        if self.writer is None:
            self.writer = SummaryWriter(self.logging_dir, **self._options)

    @property
    def tracker(self):
        """The run's vizlab SummaryWriter (it answers VisdomLogger's calls too)."""
        self.start()
        return self.writer

    @on_main_process
    def store_init_configuration(self, values):
        self.tracker.logger.settings(values or {})

    @on_main_process
    def log(self, values, step=None, **kwargs):
        """Numbers (and one-element tensors) as points, dicts of numbers as one window each, strings as text."""
        writer = self.tracker
        numbers = {}
        for key, value in values.items():
            if isinstance(value, torch.Tensor) and value.numel() == 1:
                value = value.item()
            if isinstance(value, (NUMBERS, np.number)) and not isinstance(value, bool):
                numbers[key] = value
            elif isinstance(value, dict):
                writer.add_scalars(key, value, step)
            elif isinstance(value, str):
                writer.add_text(key, value, step)
        for key, value in numbers.items():
            writer.add_scalar(key, value, step)

    @on_main_process
    def log_images(self, values, step=None, **kwargs):
        """{key: images}: a batch tensor or array (N, C, H, W), or a list of CHW tensors, HWC arrays or
        PIL images (what TensorBoardTracker and WandBTracker take): one grid per key."""
        writer = self.tracker
        for key, images in values.items():
            if isinstance(images, (torch.Tensor, np.ndarray)) and np.ndim(images) == 4:
                writer.add_images(key, images, step, dataformats=kwargs.get("dataformats", "NCHW"))
            else:
                images = images if isinstance(images, (list, tuple)) else [images]
                writer._images("image", key, same_size([rgb_uint8(im, f"log_images {key!r}") for im in images]), step)

    @on_main_process
    def log_table(self, table_name, columns=None, data=None, dataframe=None, step=None, **kwargs):
        """A table pane (the latest table), as WandBTracker.log_table takes it."""
        if dataframe is not None:
            columns, data = list(dataframe.columns), dataframe.values.tolist()
        writer = self.tracker
        step = writer._step(table_name, step)
        win = writer._window("table", table_name)
        writer.text(win, table_html(columns or [], data or []), title=writer._title(win, step))

    @on_main_process
    def finish(self):
        """Deliver everything (bounded wait) and close; accelerator.end_training() calls it."""
        if self.writer is not None:
            self.writer.close()
