"""The JSONL journal: one line per logged event, enough to rebuild every window later.

Records (one JSON object per line):
    {"op": "start", "env": ..., "max_points": ..., "time": ...}   # a logger opened the journal
    {"op": "start", ..., "resume": true}   # a logger continued the run (resume_from=): no reset
    {"op": "scalars", "win": ..., "x": ..., "y": {trace: value}, "opts": {...}}
    {"op": "points", "win": ..., "x": [...], "y": {trace: [...]}}   # a batch of scalars calls
    {"op": "line", "win": ..., "x": [...], "y": {name: [...]}, "opts": {...}}
    {"op": "window", "win": ..., "kind": "line"|"images"|"text"|"figure", "opts": {...}}   # declared
    {"op": "image", "win": ..., "src": "data:image/png;base64,...", "size": [w, h], "opts": {...}}
    {"op": "text", "win": ..., "html": ..., "opts": {...}}
    {"op": "figure", "win": ..., "traces": [...], "layout": {...}, "opts": {...}}
NaN and infinities are written as the strings "nan", "inf", "-inf" so every line is strict JSON.
"""

import json
import math
import os
import time

NON_FINITE = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}


def check_name(arg, name):
    """Visdom stores envs as files and uses window ids in URLs: keep names plain."""
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"{arg} must be a non-empty string, got {name!r}")
    if "/" in name or "\\" in name or ".." in name or "\0" in name:
        raise ValueError(f"{arg}={name!r}: names may not contain '/', '\\\\', '..' or NUL "
                         "(Visdom stores envs as files); use e.g. 'mnist_train'")


def default_path(env, rank=None, directory="runs"):
    """runs/<env>-<YYYYmmdd-HHMMSS>[-rankN].jsonl, with a counter if that name is taken."""
    stem = f"{env}-{time.strftime('%Y%m%d-%H%M%S')}" + (f"-rank{rank}" if rank else "")
    path = os.path.join(directory, stem + ".jsonl")
    n = 1
    while os.path.exists(path):
        n += 1
        path = os.path.join(directory, f"{stem}-{n}.jsonl")
    return path


def encode_number(value):
    """float -> JSON-safe value (non-finite values become strings)."""
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    return value


def decode_number(value):
    return NON_FINITE.get(value, value) if isinstance(value, str) else value


class Journal:
    """Append-only JSONL writer; the journal thread is its only user."""

    def __init__(self, path):
        self.path = os.path.abspath(path)
        os.makedirs(os.path.dirname(self.path), exist_ok=True)
        self._file = open(self.path, "a", encoding="utf-8")

    def write(self, record):
        self._file.write(json.dumps(record, separators=(",", ":"), allow_nan=False) + "\n")

    def flush(self):
        """Hand everything written to the OS (survives the process being killed)."""
        self._file.flush()

    def offset(self):
        return self._file.tell()

    def close(self):
        if not self._file.closed:
            self._file.close()


def truncate(path, offset):
    """Cut the journal at `offset` (a checkpoint's journal_offset()); clear errors otherwise."""
    if not os.path.isfile(path):
        raise ValueError(f"resume_from={offset}: no journal at {path}; pass the journal the "
                         "checkpointed run wrote")
    size = os.path.getsize(path)
    if not isinstance(offset, int) or isinstance(offset, bool) or not 0 <= offset <= size:
        raise ValueError(f"resume_from={offset!r}: use an offset from journal_offset() between 0 "
                         f"and the journal's size ({size} bytes of {path})")
    with open(path, "rb+") as f:
        if offset:
            f.seek(offset - 1)
            if f.read(1) != b"\n":
                raise ValueError(f"resume_from={offset}: not the end of a record in {path}; "
                                 "use the value journal_offset() returned")
        f.truncate(offset)


def read(path, expand=True):
    """Yield the journal's records, streaming; a torn last line (a crash mid-write) is skipped.

    expand=True turns each batched "points" record into per-point "scalars" records (today's
    form); expand=False yields batches as they are (vizlab.windows.Windows.apply takes both).
    """
    with open(path, encoding="utf-8") as f:
        torn = None
        for number, line in enumerate(f, 1):
            if torn is not None:
                raise ValueError(f"{path}:{torn[0]}: not a journal line ({torn[1]})")
            line = line.strip()
            if not line:
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as err:
                torn = (number, err)   # fine only if it is the last line
                continue
            if expand and isinstance(record, dict) and record.get("op") == "points":
                yield from _expand(record)
            else:
                yield record


def _expand(record):
    traces = record["y"]
    for i, x in enumerate(record["x"]):
        yield {"op": "scalars", "win": record["win"], "x": x, "y": {t: v[i] for t, v in traces.items()}}
