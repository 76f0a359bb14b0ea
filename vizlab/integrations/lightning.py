"""VizlabLogger: a Lightning logger streaming to Visdom through VisdomLogger.

    trainer = lightning.Trainer(logger=VizlabLogger(env="mnist"))
    trainer = lightning.Trainer(logger=[VizlabLogger(), CSVLogger("logs")])

Mapping: `train_loss`, `train/loss` -> window `loss`, trace `train` (likewise val, test);
`Loss/extra` -> window `Loss`, trace `extra`; any other name -> its own window and trace.
x is the step Lightning passes. Hyperparameters -> a text pane `settings`.
"""

import time

from lightning.fabric.utilities.logger import _convert_params, _flatten_dict
from lightning.pytorch.loggers.logger import Logger, rank_zero_experiment
from lightning.pytorch.utilities.rank_zero import rank_zero_only

from vizlab.integrations import END_WAIT, split_phase, visdom_address, window_name
from vizlab.logger import VisdomLogger
from vizlab.settings_table import log_settings

PHASES = ("train", "val", "test")


def metric_window(name):
    """'train_loss' -> ('loss', 'train'); 'Loss/a' -> ('Loss', 'a'); 'epoch' -> ('epoch', 'epoch')."""
    phased = split_phase(name, PHASES)
    if phased:
        return phased
    window, _, trace = name.partition("/")
    if window and trace:
        return window_name(window), trace
    return window_name(name), name


class VizlabLogger(Logger):
    """Lightning `Logger` whose `experiment` is a VisdomLogger (only rank zero logs)."""

    def __init__(self, env=None, server=None, port=None, journal=None, **logger_kwargs):
        super().__init__()
        self._version = time.strftime("%Y%m%d-%H%M%S")
        self._env = env or f"lightning_{self._version}"
        self._server, self._port = visdom_address(server, port)
        self._journal, self._logger_kwargs = journal, logger_kwargs
        self._experiment = None
        self._hparams = {}

    @property
    def name(self):
        return self._env

    @property
    def version(self):
        return self._version

    @property
    @rank_zero_experiment
    def experiment(self):
        """The VisdomLogger: log images, text or figures with it directly."""
        if self._experiment is None:
            self._experiment = VisdomLogger(env=self._env, server=self._server, port=self._port,
                                            journal=self._journal, **self._logger_kwargs)
        return self._experiment

    @rank_zero_only
    def log_metrics(self, metrics, step=None):
        step = 0 if step is None else step
        windows = {}
        for name, value in metrics.items():
            window, trace = metric_window(name)
            windows.setdefault(window, {})[trace] = value
        for window, values in windows.items():
            self.experiment.scalars(window, step, values)

    @rank_zero_only
    def log_hyperparams(self, params, *args, **kwargs):
        self._hparams.update(_flatten_dict(_convert_params(params)))
        log_settings(self.experiment, "settings", {"hyperparameters": self._hparams})

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
