"""wandb's module-level API: `wandb.init`, `wandb.log`, `wandb.finish`, ... on the open run (`current`,
which `wandb.run` is). The run itself is vizlab.integrations.wandb_run."""

import os
import secrets
import sys
import time

from vizlab.integrations.naming import window_name
from vizlab.integrations.tensorboard import SummaryWriter
from vizlab.integrations.wandb_run import DisabledRun, Run
from vizlab.logger.notices import say

# wandb.init's arguments that mean nothing to a Visdom server: accepted, named once on stderr.
IGNORED = ("entity", "anonymous", "resume", "reinit", "save_code", "sync_tensorboard", "monitor_gym", "magic",
           "settings", "fork_from", "resume_from", "allow_val_change", "id", "force", "tensorboard",
           "config_exclude_keys", "config_include_keys")

current = None   # the run of the last init(), None after finish(): `wandb.run`


def _forget(run):
    global current
    if current is run:
        current = None


def init(project=None, name=None, config=None, group=None, tags=None, notes=None, resume=None, anonymous=None,
         mode=None, dir=None, entity=None, job_type=None, id=None, reinit=None, *, server=None, port=None, **rest):
    """A new run (the open one finished first, as wandb's reinit does). Every wandb argument is
    accepted; those with no meaning here are named once on stderr. server=/port=: the Visdom server."""
    global current
    if current is not None:
        current.finish()
    mode = mode or os.environ.get("WANDB_MODE") or "online"
    if mode not in ("online", "offline", "disabled", "dryrun", "run", "shared"):
        raise ValueError(f"wandb.init: mode={mode!r}; use 'online', 'offline' or 'disabled'")
    if mode == "disabled":
        current = DisabledRun(config)
        current.on_finish = _forget
        return current
    given = dict(entity=entity, anonymous=anonymous, resume=resume, reinit=reinit, id=id, job_type=job_type, **rest)
    ignored = sorted(k for k, v in given.items() if v is not None and (k in IGNORED or k not in init_args()))
    if ignored:
        say(f"wandb.init: {', '.join(ignored)} ignored (no meaning for a Visdom server)")
    project = project or os.environ.get("WANDB_PROJECT") or script_name()
    name = name or os.environ.get("WANDB_NAME")
    started = time.strftime("%Y%m%d_%H%M%S")
    run_id = id or secrets.token_hex(4)
    env = window_name(f"{project}_{name or 'run'}-{started[4:]}")
    log_dir = os.path.join(dir or os.environ.get("WANDB_DIR") or ".", "wandb", f"run-{started}-{run_id}")
    writer = SummaryWriter(log_dir, env=env, server=server, port=port, send=mode not in ("offline", "dryrun"))
    details = {k: v for k, v in dict(project=project, name=name, group=group, tags=tags, notes=notes,
                                      job_type=job_type).items() if v}
    current = Run(writer, project, name, config, dict(details, id=run_id))
    current.on_finish = _forget
    say(f"wandb.init: run {name or run_id} of {project} -> Visdom env {env!r}")
    return current


def init_args():
    """The keyword arguments of wandb.init (wandb 0.19-0.21), all accepted."""
    return {"entity", "project", "dir", "id", "name", "notes", "tags", "config", "config_exclude_keys",
            "config_include_keys", "allow_val_change", "group", "job_type", "mode", "force", "anonymous",
            "reinit", "resume", "resume_from", "fork_from", "save_code", "tensorboard", "sync_tensorboard",
            "monitor_gym", "settings", "magic"}


def script_name():
    main = os.path.basename(sys.argv[0] or "") if sys.argv else ""
    return os.path.splitext(main)[0] or "wandb"


# ------------------------------------------------------------------ wandb's module-level calls

class AlertLevel:
    INFO, WARN, ERROR = "INFO", "WARN", "ERROR"


class Settings(dict):
    """wandb.Settings(...): accepted, nothing in it applies to Visdom."""

    def __init__(self, **kwargs):
        super().__init__(kwargs)


def the_run(call):
    if current is None:
        raise RuntimeError(f"wandb.{call}: call wandb.init() first (no run is open)")
    return current


def log(data, step=None, commit=None, sync=None):
    the_run("log").log(data, step=step, commit=commit)


def define_metric(name, step_metric=None, **kwargs):
    return the_run("define_metric").define_metric(name, step_metric=step_metric, **kwargs)


def alert(title, text="", level=None, wait_duration=None):
    the_run("alert").alert(title, text, level, wait_duration)


def watch(models, criterion=None, log="gradients", log_freq=1000, idx=None, log_graph=False):
    the_run("watch").watch(models, criterion, log, log_freq, idx, log_graph)


def unwatch(models=None):
    if current is not None:
        current.unwatch(models)


def finish(exit_code=None, quiet=None):
    if current is not None:
        current.finish(exit_code=exit_code, quiet=quiet)


def save(*args, **kwargs):
    say("wandb.save: files are not uploaded to Visdom; ignored")


def login(*args, **kwargs):
    """Nothing to log in to: a vizlab server knows its user (vizlab serve)."""
    return True
