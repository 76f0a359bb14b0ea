"""wandb's run, to Visdom: what `wandb.init` returns (`log`, `finish`, `define_metric`, `alert`, `watch`,
`config`, `summary`), over one vizlab SummaryWriter (the drop-in's windows and naming rule). The
module-level calls (`wandb.init`, `wandb.log`, ...) are vizlab.integrations.wandb_api.

    import vizlab.wandb as wandb          # or: from vizlab import wandb
    run = wandb.init(project="gpt", name="small", config=args)
    wandb.log({"train/loss": 2.1, "val/loss": 2.3, "lr": 6e-4})   # window "loss" (train, val), window "lr"

Steps are wandb's: each committed `log` is one step (x), `step=` sets it, `commit=False` adds to the
step without ending it; a `define_metric(key, step_metric=m)` key is drawn against the latest `m`.
Each run is its own env, `<project>_<name>-<start time>`; its journal is `<dir>/wandb/run-<time>-<id>/`.
mode="offline" journals without sending (`vizlab replay` later), mode="disabled" does nothing.
"""

import atexit
import fnmatch
import math

import numpy as np
import torch

from vizlab import run_settings
from vizlab.integrations import wandb_media as media
from vizlab.logger.notices import say
from vizlab.settings_table import log_table

SUMMARIES = {"min": min, "max": max, "last": lambda a, b: b}


class Config:
    """run.config: attribute and item access, update(); each change redraws the settings pane."""

    def __init__(self, changed):
        object.__setattr__(self, "_items", {})
        object.__setattr__(self, "_changed", changed)

    def update(self, values=None, allow_val_change=None, **more):
        self._items.update(run_settings.as_dict(values) if values is not None else {}, **more)
        self._changed()

    def setdefaults(self, values):
        for key, value in run_settings.as_dict(values).items():
            self._items.setdefault(key, value)
        self._changed()

    def as_dict(self):
        return dict(self._items)

    def keys(self):
        return self._items.keys()

    def items(self):
        return self._items.items()

    def get(self, key, default=None):
        return self._items.get(key, default)

    def __getitem__(self, key):
        return self._items[key]

    def __setitem__(self, key, value):
        self.update({key: value})

    def __contains__(self, key):
        return key in self._items

    def __iter__(self):
        return iter(self._items)

    def __len__(self):
        return len(self._items)

    def __getattr__(self, key):
        try:
            return self._items[key]
        except KeyError:
            raise AttributeError(f"config has no key {key!r}") from None

    def __setattr__(self, key, value):
        self.update({key: value})

    def __repr__(self):
        return f"Config({self._items!r})"


class Summary(dict):
    """run.summary: the last value of each logged number unless set here; drawn at finish()."""


class Run:
    """What wandb.init returns; `wandb.run` while it is open."""

    def __init__(self, writer, project, name, config, details):
        self.project, self.name, self.id = project, name, details.pop("id")
        self.dir, self.env, self.url = writer.log_dir, writer.env, None
        self.tags, self.notes, self.group = details.get("tags", ()), details.get("notes"), details.get("group")
        self._writer, self._details = writer, details
        self.step = 0
        self._row = {}              # the uncommitted step: key -> value
        self._last = {}             # key -> the last number logged (the default summary)
        self._step_metrics = {}     # glob -> step metric (define_metric)
        self._hidden, self._summary_rule = set(), {}
        self._seen = {}             # key -> its summary so far (define_metric's rule, else the last)
        self._said = set()          # the problems already said on stderr
        self._watches = []
        self.summary = Summary()
        self.config = Config(self._show_config)
        self.config.update(config or {})
        self._finished = False
        self.on_finish = lambda run: None   # wandb.run forgets it (vizlab.integrations.wandb_api)
        atexit.register(self.finish)   # wandb finishes at exit; before the logger's own close

    @property
    def logger(self):
        """The VisdomLogger of the run, for anything beyond wandb's calls."""
        return self._writer.logger

    def _show_config(self):
        if self._writer is None:
            return
        sections = {"config": run_settings.plain_settings(self.config.as_dict(), "config")[0]}
        if self._details:
            sections["run"] = {k: (", ".join(map(str, v)) if isinstance(v, (list, tuple)) else v)
                               for k, v in self._details.items()}
        self._writer.logger.settings(sections)

    # ------------------------------------------------------------------ log

    def log(self, data, step=None, commit=None, sync=None):
        if not isinstance(data, dict):
            raise TypeError(f"wandb.log: data must be a dict of name -> value, got {type(data).__name__}")
        if self._finished:
            raise RuntimeError("wandb.log after finish(): call wandb.init() for a new run")
        if step is not None:
            step = int(step)
            if step < self.step:
                self._say_once("step", f"wandb.log: step {step} is before the current step {self.step}; "
                                       "dropped, as wandb drops it (said once)")
                return
            if step > self.step:
                self._commit()
                self.step = step
        self._row.update(flatten(data))
        if commit or (commit is None and step is None):
            self._commit()

    def _commit(self):
        row, self._row = self._row, {}
        if row:
            self._draw(row, self.step)
            self.step += 1

    def _draw(self, row, step):
        numbers, x_of = {}, {}
        for key, value in row.items():
            number = as_number(value)
            if number is not None:
                numbers[key] = number
                self._last[key] = number
        for key, value in row.items():
            if self._is_hidden(key):
                continue
            metric = self._step_metric(key)
            x = step if metric is None else self._last.get(metric, step)
            if key in numbers:
                x_of.setdefault(x, {})[key] = numbers[key]
                self._summarise(key, numbers[key])
            elif isinstance(value, (str, bool, np.bool_)):
                self._seen[key] = bool(value) if isinstance(value, np.bool_) else value   # the summary only
            elif isinstance(value, media.MEDIA) or media.is_image_list(value):
                media.draw(self._writer, key, value, x)
            elif isinstance(value, (torch.Tensor, np.ndarray)) and np.prod(value.shape) > 1:
                media.draw(self._writer, key, media.Histogram(value), x)   # as wandb: arrays are histograms
            elif value is not None:
                self._say_once(f"type:{key}", f"wandb.log: {key!r} is a {type(value).__name__}, which vizlab does "
                               "not draw (see docs/integrations.md, not covered); the other keys are drawn")
        for x, values in x_of.items():
            self._writer.add_metrics(values, x)

    def _summarise(self, key, value):
        rule = SUMMARIES.get(self._summary_rule.get(key, "last"))
        if rule is not None and math.isfinite(value):
            self._seen[key] = rule(self._seen[key], value) if key in self._seen else value

    def _say_once(self, key, message):
        if key not in self._said:
            self._said.add(key)
            say(message)

    def define_metric(self, name, step_metric=None, step_sync=None, hidden=None, summary=None, goal=None,
                      overwrite=None, **_):
        """step_metric: the key drawn as x for `name` (a glob: "val/*"); hidden: not drawn;
        summary: "min", "max" or "last" is kept in run.summary (others: the last value)."""
        if not isinstance(name, str) or not name:
            raise ValueError(f"define_metric: name must be a non-empty string, got {name!r}")
        if step_metric is not None:
            self._step_metrics[name] = step_metric
        if hidden:
            self._hidden.add(name)
        if summary:
            self._summary_rule[name] = summary.split(",")[0].strip()
        return name

    def _step_metric(self, key):
        for pattern, metric in self._step_metrics.items():
            if fnmatch.fnmatchcase(key, pattern) and key != metric:
                return metric
        return None

    def _is_hidden(self, key):
        return any(fnmatch.fnmatchcase(key, pattern) for pattern in self._hidden)

    # ------------------------------------------------------------------ alert, watch, finish

    def alert(self, title, text="", level=None, wait_duration=None):
        """A row in the status pane's alerts and one stderr line."""
        level = getattr(level, "value", level) or "INFO"
        self.logger.alert(f"{level}: {title}" + (f": {text}" if text else ""))

    def watch(self, models, criterion=None, log="gradients", log_freq=1000, idx=None, log_graph=False):
        """The per-layer gradient norms of each model every `log_freq` forward passes (a line window
        `gradients`, vizlab.logger.gradients); log_graph=True also shows its structure pane."""
        from vizlab.logger.gradients import GradientNorms
        models = models if isinstance(models, (list, tuple)) else [models]
        for k, model in enumerate(models):
            if not isinstance(model, torch.nn.Module):
                raise TypeError(f"wandb.watch: expected torch.nn.Module, got {type(model).__name__}")
            win = "gradients" if len(models) == 1 else f"gradients_{k}"
            if log in ("gradients", "all"):
                self._watches.append(GradientNorms(model, self.logger, every=int(log_freq), win=win))
            if log_graph:
                self._writer.add_graph(model)

    def unwatch(self, models=None):
        for watch in self._watches:
            watch.remove()
        self._watches = []

    def finish(self, exit_code=None, quiet=None):
        """Commit the last step, draw the summary, close the logger (bounded delivery wait);
        exit_code != 0 marks the run crashed in the status pane."""
        if self._finished:
            return
        self._finished = True
        atexit.unregister(self.finish)
        self.unwatch()
        self._commit()
        values = {**self._seen, **self.summary}
        if values:
            log_table(self.logger, "summary", {"summary": {k: plain(v) for k, v in values.items()}}, title="summary")
        if exit_code:
            self.logger._ended("crashed", f"exit code {exit_code}")
        self._writer.close()
        self.on_finish(self)

    def save(self, *args, **kwargs):
        say("wandb.save: files are not uploaded to Visdom; ignored")

    def log_code(self, *args, **kwargs):
        say("wandb.log_code: code is not uploaded to Visdom; ignored")

    def __enter__(self):
        return self

    def __exit__(self, kind, value, tb):
        self.finish(exit_code=1 if kind is not None else None)


class DisabledRun(Run):
    """mode="disabled": every call accepted, nothing logged (as wandb's disabled mode)."""

    def __init__(self, config):
        self.project, self.name, self.id, self.dir, self.env = None, None, "disabled", None, None
        self.step, self.summary, self._writer = 0, Summary(), None
        self.config = Config(lambda: None)
        self.config.update(config or {})
        self._finished = False
        self.on_finish = lambda run: None

    def log(self, data, step=None, commit=None, sync=None):
        pass

    def define_metric(self, name, *args, **kwargs):
        return name

    def alert(self, *args, **kwargs):
        pass

    def watch(self, *args, **kwargs):
        pass

    def unwatch(self, *args, **kwargs):
        pass

    def finish(self, exit_code=None, quiet=None):
        self.on_finish(self)


def flatten(data, prefix=""):
    """{"a": {"b": 1}} -> {"a/b": 1}, as wandb names nested keys."""
    flat = {}
    for key, value in data.items():
        key = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(flatten(value, key + "/"))
        else:
            flat[key] = value
    return flat


def as_number(value):
    """A float for ints, floats, NumPy numbers and one-element tensors; None for the rest (bools too)."""
    if isinstance(value, bool) or isinstance(value, np.bool_):
        return None
    if isinstance(value, (int, float, np.integer, np.floating)):
        return float(value)
    if isinstance(value, torch.Tensor) and value.numel() == 1 and not value.dtype == torch.bool:
        return float(value.detach().cpu().item())
    if isinstance(value, np.ndarray) and value.size == 1 and np.issubdtype(value.dtype, np.number):
        return float(value.reshape(-1)[0])
    return None


def plain(value):
    return round(value, 6) if isinstance(value, float) else value
