"""One row per run for the runs table (`/vizlab/runs`, vizlab.server.runs_page): read from its journal.

A row holds the run's env, state (the last status record's: running, finished, crashed,
interrupted; "-" for a run logged without the status pane), start and last time, its settings
(as text, as the settings pane shows them) and, per metric (a trace logged with scalar()/scalars(), "window/trace"),
its last value and its best: the minimum for a metric named like a loss or an error, else the
maximum. A Summary reads only what its journal gained since the last look (journals grow while
runs log). Standard library only: the Visdom server process loads it.
"""

import math
import os
import re

from vizlab import journal as journal_mod

LOWER_IS_BETTER = re.compile(r"loss|err|perplexity|ppl|mse|mae|rmse|nll|time|regret", re.I)


def lower_is_better(metric):
    return bool(LOWER_IS_BETTER.search(metric))


class Summary:
    """A run's row, kept up to date by read() (only the bytes appended since the last read)."""

    def __init__(self, path):
        self.path = path
        self.offset, self.lines = 0, 0
        self.env, self.state, self.start, self.last_time = None, "-", None, None
        self.settings, self.metrics = {}, {}   # metric -> [last, best]

    def read(self):
        """Fold in what the journal gained; a torn last line waits for the next read."""
        try:
            if os.path.getsize(self.path) == self.offset:
                return self
            lines, end = journal_mod.read_since(self.path, self.offset, self.lines + 1, final=False)
        except OSError:
            return self
        for _, record, _ in lines:
            if record is not None:
                self._apply(record)
        self.lines += len(lines)
        self.offset += end
        return self

    def _apply(self, record):
        op = record["op"]
        if op == "start":
            if not record.get("resume") or self.env is None:
                self.env, self.start = record.get("env", "main"), record.get("time")
                if not record.get("resume"):
                    self.metrics, self.state = {}, "-"
        elif op == "status":
            self.state = record["state"]
            if isinstance(record.get("time"), (int, float)):
                self.last_time = record["time"]
        elif op == "settings":
            self.settings.update({k: str(v) for k, v in record["values"].items()})
        elif op == "scalars":
            for trace, y in record["y"].items():
                self._point(f"{record['win']}/{trace}", y)
        elif op == "points":   # a line() call draws a curve over x, not a metric: left out
            for trace, ys in record["y"].items():
                for y in ys:
                    self._point(f"{record['win']}/{trace}", y)

    def _point(self, metric, y):
        y = journal_mod.decode_number(y)
        if not isinstance(y, (int, float)) or isinstance(y, bool) or not math.isfinite(y):
            return
        entry = self.metrics.get(metric)
        if entry is None:
            self.metrics[metric] = [y, y]
            return
        entry[0] = y
        if (y < entry[1]) if lower_is_better(metric) else (y > entry[1]):
            entry[1] = y

    def row(self):
        end = self.last_time
        if end is None or self.state == "running":
            try:
                end = os.path.getmtime(self.path)
            except OSError:
                end = None
        duration = end - self.start if end is not None and self.start is not None else None
        return {"journal": self.path, "env": self.env or "main", "state": self.state, "start": self.start,
                "duration": duration, "settings": self.settings,
                "metrics": {m: {"last": v[0], "best": v[1]} for m, v in self.metrics.items()}}


def differing(rows):
    """The settings keys whose values differ across the rows (a key some rows lack counts)."""
    keys = dict.fromkeys(k for r in rows for k in r["settings"])
    return [k for k in keys if len({r["settings"].get(k) for r in rows}) > 1]
