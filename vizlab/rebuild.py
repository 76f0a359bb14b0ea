"""A journal back into window models: what `vizlab replay` sends and what `vizlab serve` restores.

The journal is streamed (bounded memory) through the same window model the live logger used, so
the rebuilt windows equal the live ones. A start record begins a new run (a journal reused by a
later run) unless it is marked "resume" (resume_from=: the same run goes on).
"""

from vizlab import journal as journal_mod
from vizlab.smoothing import weight_or_off
from vizlab.windows import MAX_POINTS, Windows


def runs(path, env=None, skipped=None, raw=None):
    """Yield (Windows, calls) for each run the journal at `path` holds, in order; `env` overrides
    the recorded env. Lines that are not records, or records the model refuses, are skipped and,
    when `skipped` is a list, added to it as (line, why). vizlab.Visdom's records (Visdom's own
    requests, no window model) go to the list `raw` when given, else are passed over. Raises
    ValueError (after yielding what there was) when no line is a usable record."""
    skipped = [] if skipped is None else skipped
    model, events, usable = None, 0, False
    for number, record in journal_mod.numbered(path, skipped):
        usable = usable or record["op"] != "start"
        if record["op"] == "visdom":
            if raw is not None:
                raw.append(record)
            continue
        if record["op"] == "start" and record.get("resume") and model is not None:
            continue
        if record["op"] == "start":
            if model is not None:
                yield model, events
            model = Windows(env or record.get("env", "main"), record.get("max_points", MAX_POINTS),
                            weight_or_off(record.get("smoothing", 0.0)))
            events = 0
            continue
        if model is None:
            model = Windows(env or "main", MAX_POINTS)
        try:
            model.apply(record)
        except (KeyError, TypeError, ValueError) as err:
            skipped.append((number, f"a {record['op']!r} record the window model refuses ({err!r:.60})"))
            continue
        events += journal_mod.calls(record)
    if skipped and not usable:
        raise ValueError(journal_mod.skipped_message(path, skipped)
                         + "; not a vizlab journal record at any line, nothing to replay")
    if model is not None:
        yield model, events


def requests_of(model):
    """[(endpoint, message)] sending every window of `model` whole, in page order."""
    return [model.request(name)[:2] for name in model.windows]
