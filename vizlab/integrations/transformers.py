"""VizlabCallback: Hugging Face Trainer logs streamed to Visdom through VisdomLogger.

    trainer = transformers.Trainer(..., callbacks=[VizlabCallback(env="bert")])
    TrainingArguments(..., report_to="vizlab")   # the same, made by the Trainer (after this import)

Mapping: `loss` -> window `loss`, trace `train`; `eval_loss` -> window `loss`, trace `eval`
(likewise `test_`); `learning_rate`, `grad_norm`, `epoch` -> their own windows, trace `train`.
x is state.global_step. The end-of-training summary (train_runtime, train_loss, ...) goes to a text
pane `summary`; the TrainingArguments that matter and the model config to a text pane `settings`.
"""

import os

from transformers import TrainerCallback
from transformers.integrations import integration_utils

from vizlab.address import visdom_address
from vizlab.integrations.naming import END_WAIT, NUMBERS, split_phase, window_name
from vizlab.logger import VisdomLogger
from vizlab.settings_table import log_table

PHASES = ("eval", "test")
# Logged once by Trainer at the end: run totals, not points of a curve.
SUMMARY_KEYS = {"train_runtime", "train_samples_per_second", "train_steps_per_second", "train_loss", "total_flos"}
ARGUMENTS = ("output_dir", "learning_rate", "lr_scheduler_type", "warmup_steps", "warmup_ratio", "weight_decay",
             "optim", "per_device_train_batch_size", "per_device_eval_batch_size", "gradient_accumulation_steps",
             "num_train_epochs", "max_steps", "logging_steps", "eval_strategy", "eval_steps", "seed", "fp16", "bf16")


def metric_window(name):
    """'eval_loss' -> ('loss', 'eval'); 'loss' -> ('loss', 'train')."""
    return split_phase(name, PHASES) or (window_name(name), "train")


class VizlabCallback(TrainerCallback):
    """Streams on_log scalars at state.global_step; only the main process logs."""

    def __init__(self, env=None, server=None, port=None, journal=None, **logger_kwargs):
        self.env, self.journal, self.logger_kwargs = env, journal, logger_kwargs
        self.server, self.port = visdom_address(server, port)
        self.logger = None   # opened at train begin (or the first log), closed by close() or at exit

    def _open(self, args):
        if self.logger is None:
            env = self.env or window_name(os.path.basename(os.path.normpath(args.output_dir or "transformers")))
            self.logger = VisdomLogger(env=env, server=self.server, port=self.port, journal=self.journal,
                                       **self.logger_kwargs)
        return self.logger

    def on_train_begin(self, args, state, control, model=None, **kwargs):
        if not state.is_world_process_zero:
            return
        arguments = {name: getattr(args, name) for name in ARGUMENTS if hasattr(args, name)}
        config = getattr(model, "config", None)
        sections = {"TrainingArguments": arguments}
        if config is not None:
            sections[f"model config ({type(config).__name__})"] = {
                k: v for k, v in config.to_dict().items() if v is not None and not k.startswith("_")}
        logger = self._open(args)
        if state.max_steps and state.max_steps > 0:   # the status pane's progress bar and ETA
            logger.total_steps = int(state.max_steps)
        logger.settings(sections)   # each section a heading of the pane

    def on_log(self, args, state, control, logs=None, **kwargs):
        if not state.is_world_process_zero or not logs:
            return
        logger = self._open(args)
        windows, summary = {}, {}
        for key, value in logs.items():
            if key in SUMMARY_KEYS:
                summary[key] = value
            elif isinstance(value, NUMBERS) and not isinstance(value, bool):
                # (an evaluation's log has the epoch too: a point, as TensorBoardCallback draws it)
                window, trace = metric_window(key)
                windows.setdefault(window, {})[trace] = value
        for window, values in windows.items():
            logger.scalars(window, state.global_step, values)
        if summary:
            log_table(logger, "summary", {f"training summary (step {state.global_step})": summary},
                      title="summary")

    def on_train_end(self, args, state, control, **kwargs):
        # Flush, not close: trainer.evaluate() after trainer.train() (the usual script) logs on, and
        # a logger reopened then would start its windows afresh. The logger closes at exit.
        if self.logger is not None:
            self.logger.flush(timeout=END_WAIT)

    def close(self):
        """Deliver everything (bounded wait) and stop the logger; a later log opens a new one."""
        if self.logger is not None:
            self.logger.close()
            self.logger = None


# TrainingArguments(report_to="vizlab") once this module is imported: transformers looks report_to
# names up in this table and makes the callback with no arguments (env: output_dir's last part).
integration_utils.INTEGRATION_TO_CALLBACK.setdefault("vizlab", VizlabCallback)
