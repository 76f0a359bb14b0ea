"""wandb's API, to Visdom: `import vizlab.wandb as wandb` or `from vizlab import wandb` in place of
`import wandb`. The run is vizlab.integrations.wandb_run, the media types vizlab.integrations.wandb_media
(docs/integrations.md says what is covered and what is not)."""

from vizlab.integrations import wandb_run as _runs
from vizlab.integrations.wandb_media import Histogram, Html, Image, Table
from vizlab.integrations.wandb_run import (AlertLevel, Config, Run, Settings, alert, define_metric, finish, init,
                                           log, login, save, unwatch, watch)

__all__ = ["AlertLevel", "Config", "Histogram", "Html", "Image", "Run", "Settings", "Table", "alert",
           "define_metric", "finish", "init", "log", "login", "save", "unwatch", "watch"]


def __getattr__(name):
    # wandb.run, wandb.config, wandb.summary: the open run's (None / empty before init, as wandb's)
    run = _runs.current
    if name == "run":
        return run
    if name == "config":
        return run.config if run is not None else _runs.Config(lambda: None)
    if name == "summary":
        return run.summary if run is not None else _runs.Summary()
    raise AttributeError(f"module 'vizlab.wandb' has no attribute {name!r} (not covered: see docs/integrations.md)")
