"""The JSONL journal: one line per logged event, enough to rebuild every window later.

Records (one JSON object per line):
    {"op": "start", "env": ..., "max_points": ..., "time": ...}   # a logger opened the journal
    {"op": "scalars", "win": ..., "x": ..., "y": {trace: value}, "opts": {...}}
    {"op": "line", "win": ..., "x": [...], "y": {name: [...]}, "opts": {...}}
    {"op": "image", "win": ..., "src": "data:image/png;base64,...", "opts": {...}}
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
    """Append-only JSONL writer; the sender thread is its only user."""

    def __init__(self, path):
        self.path = os.path.abspath(path)
        os.makedirs(os.path.dirname(self.path), exist_ok=True)
        self._file = open(self.path, "a", encoding="utf-8")

    def write(self, record):
        self._file.write(json.dumps(record, separators=(",", ":"), allow_nan=False) + "\n")

    def flush(self):
        self._file.flush()

    def close(self):
        if not self._file.closed:
            self._file.close()


def read(path):
    """Yield the journal's records; a torn last line (a crash mid-write) is skipped."""
    with open(path, encoding="utf-8") as f:
        lines = f.readlines()
    for number, line in enumerate(lines, 1):
        line = line.strip()
        if not line:
            continue
        try:
            yield json.loads(line)
        except json.JSONDecodeError as err:
            if number == len(lines):
                return  # interrupted while writing the last event: everything before it is intact
            raise ValueError(f"{path}:{number}: not a journal line ({err})") from None
