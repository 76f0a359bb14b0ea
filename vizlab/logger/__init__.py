"""The logging core: `VisdomLogger` and what runs behind it.

visdom_logger (the public class: checks each call and enqueues it), checks (argument checks),
records (calls -> journal records), writer (the journal thread), sender (the delivery thread),
notices (rate-limited messages), render (labelled image grids), lifecycle (signals and fork),
system and gradients (the system and gradient panes).
"""

from vizlab.logger.visdom_logger import VisdomLogger

__all__ = ["VisdomLogger"]
