"""VizlabLogger: a Lightning logger streaming to Visdom through VisdomLogger.

    trainer = lightning.Trainer(logger=VizlabLogger(env="mnist"))
    trainer = lightning.Trainer(logger=[VizlabLogger(), CSVLogger("logs")])

Mapping: `train_loss`, `train/loss` -> window `loss`, trace `train` (likewise val, valid, test, ...);
`train_loss_step`, `train_loss_epoch` (self.log(..., on_step=True, on_epoch=True)) -> window
`loss`, traces `train_step`, `train_epoch`, beside `val`; `Loss/extra` -> window `Loss`, trace
`extra`; any other name -> its own window and trace. x is the step Lightning passes.
Hyperparameters -> a text pane `settings` (metrics given to log_hyperparams: a results table).
`experiment` is a vizlab SummaryWriter of the run: TensorBoardLogger-style
`self.logger.experiment.add_image(...)` calls work, and so do VisdomLogger's own calls. WandbLogger's
log_image / log_text / log_table are here too. Files go under log_dir = save_dir/name/version, as
with TensorBoardLogger: ModelCheckpoint writes log_dir/checkpoints, the journal log_dir/vizlab.jsonl.
"""

import math
import os
import time
import warnings

from lightning.pytorch.loggers.logger import Logger, rank_zero_experiment
from lightning.pytorch.utilities.rank_zero import rank_zero_only

from vizlab import run_settings
from vizlab.address import visdom_address
from vizlab.integrations.naming import END_WAIT, PHASE_WORDS, split_phase, window_name
from vizlab.integrations.tensorboard import SummaryWriter
from vizlab.integrations.tensorboard_images import rgb_uint8, same_size
from vizlab.integrations.tensorboard_panes import table_html

PHASES = PHASE_WORDS   # train, val, valid (backbone_image_classifier.py), validation, eval, test, ...
SUFFIXES = ("_step", "_epoch")   # what self.log(..., on_step=True, on_epoch=True) appends


def metric_window(name):
    """'train_loss' -> ('loss', 'train'); 'train_loss_step' -> ('loss', 'train_step');
    'Loss/a' -> ('Loss', 'a'); 'epoch' -> ('epoch', 'epoch')."""
    phased = split_phase(name, PHASES)
    if phased:
        metric, phase = phased
        for suffix in SUFFIXES:
            if metric.endswith(suffix) and len(metric) > len(suffix):
                return metric[:-len(suffix)], phase + suffix
        return phased
    window, _, trace = name.partition("/")
    if window and trace:
        return window_name(window), trace
    return window_name(name), name


class VizlabLogger(Logger):
    """Lightning `Logger` whose `experiment` is a vizlab SummaryWriter (only rank zero logs)."""

    def __init__(self, env=None, server=None, port=None, journal=None, save_dir="lightning_logs",
                 log_graph=True, **logger_kwargs):
        super().__init__()
        self._version = time.strftime("%Y%m%d-%H%M%S")
        self._env = env or f"lightning_{self._version}"
        self._server, self._port = visdom_address(server, port)
        self._journal, self._logger_kwargs = journal, logger_kwargs
        self._save_dir, self._log_graph = os.fspath(save_dir), log_graph
        self._experiment = None
        self._hparams, self._metrics = {}, {}

    @property
    def name(self):
        return self._env

    @property
    def version(self):
        return self._version

    @property
    def save_dir(self):
        return self._save_dir

    @property
    def root_dir(self):
        return os.path.join(self._save_dir, self.name)

    @property
    def log_dir(self):
        """save_dir/name/version, as TensorBoardLogger's: callbacks put their files here."""
        return os.path.join(self._save_dir, self.name, self.version)

    @property
    @rank_zero_experiment
    def experiment(self):
        """A SummaryWriter of this run: add_image, add_histogram, ... and VisdomLogger's calls."""
        if self._experiment is None:
            self._experiment = SummaryWriter(self.log_dir, env=self._env, server=self._server, port=self._port,
                                             journal=self._journal, **self._logger_kwargs)
        return self._experiment

    @rank_zero_only
    def log_metrics(self, metrics, step=None):
        self.experiment.add_metrics(metrics, 0 if step is None else step, route=metric_window)

    @rank_zero_only
    def log_hyperparams(self, params, metrics=None, step=None):
        # each call adds to the settings so far (Lightning calls it more than once)
        self._hparams.update(run_settings.plain_settings({} if params is None else params, "params")[0])
        self._metrics.update(metrics or {})
        writer = self.experiment
        writer.logger.settings(self._hparams, win=writer._window("settings", "settings"),
                            results=self._metrics)

    @rank_zero_only
    def log_graph(self, model, input_array=None):
        """The structure pane: the module tree, with output shapes when an input is known."""
        self._total_steps(getattr(model, "_trainer", None))   # the Trainer calls this at fit start
        if not self._log_graph:
            return
        input_array = getattr(model, "example_input_array", None) if input_array is None else input_array
        if input_array is not None and hasattr(model, "_apply_batch_transfer_handler"):
            input_array = model._apply_batch_transfer_handler(model._on_before_batch_transfer(input_array))
        try:
            self.experiment.add_graph(model, input_array)
        except Exception as err:   # the Trainer calls this at fit start: never stop training for it
            warnings.warn(f"log_graph: the forward pass on the example input failed ({type(err).__name__}: "
                          f"{err}); the structure pane shows the modules without output shapes", stacklevel=2)
            self.experiment.add_graph(model)

    def _total_steps(self, trainer):
        """The status pane's progress bar and ETA: max_steps, else the steps the Trainer expects."""
        try:
            total = trainer.max_steps if trainer.max_steps > 0 else trainer.estimated_stepping_batches
        except Exception:   # no Trainer, or it cannot tell (an iterable dataset): no bar
            return
        if isinstance(total, (int, float)) and math.isfinite(total) and total >= 1:
            self.experiment.logger.total_steps = int(total)

    # ------------------------------------------------------------------ WandbLogger's calls

    @rank_zero_only
    def log_image(self, key, images, step=None, **kwargs):
        """Images (tensors CHW, arrays HWC, PIL images or file paths) as one grid; caption=[...]
        labels the tiles."""
        if not isinstance(images, (list, tuple)):
            raise TypeError(f"log_image({key!r}): images must be a list, got {type(images).__name__}")
        n = len(images)
        for k, v in kwargs.items():
            if len(v) != n:
                raise ValueError(f"log_image({key!r}): expected {n} items in {k}, got {len(v)}")
        # one grid per step; the window keeps the earlier steps (a slider), as add_images does
        self.experiment._images("image", key, same_size([rgb_uint8(im, key) for im in images]), step,
                                labels=kwargs.get("caption"))

    @rank_zero_only
    def log_table(self, key, columns=None, data=None, dataframe=None, step=None):
        """A table pane (the latest table of `key`)."""
        if dataframe is not None:
            columns, data = list(dataframe.columns), dataframe.values.tolist()
        if columns is None or data is None:
            raise ValueError(f"log_table({key!r}): give columns and data, or dataframe")
        writer = self.experiment
        step = writer._step(key, step)
        win = writer._window("table", key)
        writer.text(win, table_html(columns, data), title=writer._title(win, step))

    @rank_zero_only
    def log_text(self, key, columns=None, data=None, dataframe=None, step=None):
        """WandbLogger's log_text is a table of text: the same pane as log_table."""
        self.log_table(key, columns, data, dataframe, step)

    # ------------------------------------------------------------------ lifetime

    def save(self):
        """Nothing to do: Lightning calls this after every log_metrics, and the VisdomLogger
        already journals and sends on its own thread."""

    @rank_zero_only
    def finalize(self, status):
        # Flush, not close: trainer.test() after trainer.fit() finalizes twice and logs in between.
        # The VisdomLogger closes (draining everything) at exit, or on close().
        if self._experiment is not None:
            self._experiment.flush(timeout=END_WAIT)

    def close(self):
        if self._experiment is not None:
            self._experiment.close()

