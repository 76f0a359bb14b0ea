"""wandb's API, to Visdom: `import vizlab.wandb as wandb` or `from vizlab import wandb` in place of
`import wandb`. The calls are vizlab.integrations.wandb_api, the run vizlab.integrations.wandb_run, the
media types vizlab.integrations.wandb_media (docs/integrations.md says what is covered and what is not)."""

from vizlab.integrations import wandb_api as _api
from vizlab.integrations.wandb_api import (AlertLevel, Settings, alert, define_metric, finish, init, log, login, save,
                                           unwatch, watch)
from vizlab.integrations.wandb_media import Histogram, Html, Image, Table
from vizlab.integrations.wandb_run import Config, Run, Summary

__all__ = ["AlertLevel", "Config", "Histogram", "Html", "Image", "Run", "Settings", "Summary", "Table", "alert",
           "define_metric", "finish", "init", "log", "login", "save", "unwatch", "watch"]


def __getattr__(name):
    # wandb.run, wandb.config, wandb.summary: the open run's (None / empty before init, as wandb's)
    run = _api.current
    if name == "run":
        return run
    if name == "config":
        return run.config if run is not None else Config(lambda: None)
    if name == "summary":
        return run.summary if run is not None else Summary()
    raise AttributeError(f"module 'vizlab.wandb' has no attribute {name!r} (not covered: see docs/integrations.md)")
