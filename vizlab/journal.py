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
    {"op": "settings", "win": ..., "values": {key: value}, "results": {...}, "omitted": n, "opts": {...}}
        # the run's settings (vizlab.run_settings): a settings pane, and what compare names runs by
    {"op": "status", "win": "status", "state": ..., "time": ..., "step": ..., "alert": {...}}   # vizlab.status
    {"op": "visdom", "endpoint": "update", "msg": {...}}   # vizlab.Visdom: a request as Visdom's
        # client makes it (its JSON, NaN included); `vizlab replay` sends these as the live client did
NaN and infinities are written as the strings "nan", "inf", "-inf" so every line is strict JSON.
"""

import itertools
import json
import math
import os
import threading
import time

try:   # the logger's fast writer of batches (a dependency of vizlab); the readers need it not, and
    import orjson   # some run without it: the runs page inside a visdom server's own venv
except ImportError:
    orjson = None

from vizlab.private_files import private_dir

NON_FINITE = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}


class JournalUnwritable(OSError):
    """The journal's path cannot be written: raised once, at construction, naming the path."""


def calls(record):
    """How many logging calls a record holds (a batch holds one per x; a status record none)."""
    op = record["op"]
    return len(record["x"]) if op == "points" else 0 if op == "status" else 1


MAX_ENV_BYTES = 200   # a file name holds 255 bytes: the journal's name adds up to ~40 to the env's


def check_name(arg, name):
    """Visdom stores envs as files and uses window ids in URLs: keep names plain."""
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"{arg} must be a non-empty string, got {name!r}")
    if "/" in name or "\\" in name or ".." in name or "\0" in name:
        raise ValueError(f"{arg}={name!r}: names may not contain '/', '\\\\', '..' or NUL "
                         "(Visdom stores envs as files); use e.g. 'mnist_train'")
    try:
        size = len(name.encode("utf-8"))
    except UnicodeEncodeError:
        raise ValueError(f"{arg}={name!r}: the name is not valid text (a lone surrogate, as from "
                         "bytes decoded with errors='surrogateescape'); it goes into file names and "
                         "URLs as UTF-8: use plain text") from None
    if arg.lstrip("-") == "env" and size > MAX_ENV_BYTES:
        raise ValueError(f"{arg}={name[:20]!r}... is {size} bytes in UTF-8; an env name is part of "
                         f"file names (Visdom's ENV.json, the journal's ENV-TIME.jsonl), so at most "
                         f"{MAX_ENV_BYTES} bytes: use a shorter name")


def default_path(env, rank=None, directory="runs", n=1):
    """runs/<env>-<YYYYmmdd-HHMMSS>[-rankN][-n].jsonl (Journal.create takes the first free n)."""
    stem = f"{env}-{time.strftime('%Y%m%d-%H%M%S')}" + (f"-rank{rank}" if rank else "")
    return os.path.join(directory, stem + (f"-{n}" if n > 1 else "") + ".jsonl")


def encode_number(value):
    """float -> JSON-safe value (non-finite values become strings)."""
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    return value


def decode_number(value):
    return NON_FINITE.get(value, value) if isinstance(value, str) else value


def encode(record):
    """One record -> its journal line (bytes); raises TypeError/ValueError for what JSON lacks.

    A batch of points (the fast loop's record: numbers, non-finite ones already their strings) goes
    through orjson, ~10x faster at writing floats; what it refuses (an int past 64 bits, a key that
    is not a string) and every other record go through json, which refuses NaN where orjson would
    write null. The lines are the same JSON either way (floats may be spelled 1e-7 for 1e-07)."""
    if record["op"] == "points" and orjson is not None:
        try:
            return orjson.dumps(record, option=orjson.OPT_APPEND_NEWLINE)
        except orjson.JSONEncodeError:
            pass
    return (json.dumps(record, separators=(",", ":"), allow_nan=False) + "\n").encode()


class Journal:
    """Append-only JSONL file written with os.write, whole lines only; the journal thread is its
    only user. A write the disk refuses leaves the file ending on its last whole line."""

    def __init__(self, path, exclusive=False):
        self.path = os.path.abspath(path)
        self._fd = _open(self.path, exclusive)
        self._size = os.fstat(self._fd).st_size
        self._writing = threading.Lock()   # held across each append (see seal)

    @classmethod
    def create(cls, env, rank=None, directory="runs"):
        """A new journal at the default path, created exclusively (O_EXCL): runs started in the
        same second, even at the same instant, each get a file of their own."""
        for n in itertools.count(1):
            try:
                return cls(default_path(env, rank, directory, n), exclusive=True)
            except FileExistsError:
                continue

    def write(self, record):
        """Write one record now; raises OSError (the file keeps its whole lines)."""
        written, err = self.append(encode(record))
        if err is not None:
            raise err

    def append(self, data):
        """Write whole lines (bytes) with one os.write; returns (lines written, OSError or None).
        After a failed or partial write the file is cut back to its last whole line."""
        with self._writing:
            return self._append(data)

    def _append(self, data):
        view, done = memoryview(data), 0
        try:
            while done < len(data):
                done += os.write(self._fd, view[done:])
        except OSError as err:
            keep = data.rfind(b"\n", 0, done) + 1
            if keep < done:
                os.ftruncate(self._fd, self._size + keep)   # no spliced line, ever
            self._size += keep
            return data.count(b"\n", 0, keep), err
        self._size += done
        return data.count(b"\n"), None

    def seal(self, record, timeout):
        """The process ends now (a second signal): wait at most `timeout` for a write in
        progress, append `record` (None: nothing) and keep the lock, so that the file ends on a
        whole line whatever its writer does until the process is gone. False if it waited in vain."""
        if not self._writing.acquire(timeout=timeout):
            return False
        if record is not None and self._fd is not None:
            self._append(encode(record))
        return True

    def offset(self):
        return self._size

    def close(self):
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def _open(path, exclusive):
    """The journal's file descriptor, or one JournalUnwritable naming the path and what to do."""
    folder = os.path.dirname(path)
    try:
        private_dir(folder or ".", fix=False, what="journals (0600 each)")   # 0700 when made here
    except OSError as err:
        why = ("a file is in the way" if isinstance(err, (FileExistsError, NotADirectoryError))
               else err.strerror)
        raise unwritable(path, f"its folder {folder} cannot be made ({why})") from None
    flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC | (os.O_EXCL if exclusive else 0)
    try:
        return os.open(path, flags, 0o600)   # the owner's alone, like the server
    except FileExistsError:
        if exclusive:
            raise
        raise unwritable(path, "it is not a file") from None
    except OSError as err:
        raise unwritable(path, err.strerror) from None


def unwritable(path, why):
    return JournalUnwritable(f"cannot write the journal {path}: {why}; pass journal= a writable "
                             "path (e.g. journal='/tmp/run.jsonl'), or journal=False to log to the "
                             "live view only")


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


NUMBER = (int, float, str, type(None))   # a number, its non-finite string form, or a gap
OPS = {   # op -> {key: type} that every record of it has
    "start": {}, "scalars": {"win": str, "x": (int, float), "y": dict},
    "points": {"win": str, "x": list, "y": dict}, "line": {"win": str, "x": list, "y": dict},
    "window": {"win": str}, "image": {"win": str, "src": str}, "text": {"win": str, "html": str},
    "figure": {"win": str, "traces": list}, "settings": {"win": str, "values": dict},
    "status": {"win": str, "state": str},
    "visdom": {"endpoint": str, "msg": dict},   # vizlab.Visdom: one request of Visdom's client
}
SHOW_SKIPPED = 5   # line numbers named in a message; the count is always whole


def problem(record):
    """Why `record` is not a journal record the window model can apply, or None."""
    if not isinstance(record, dict):
        return f"JSON that is not a record ({type(record).__name__})"
    if "op" not in record:
        return "a record without 'op'"
    op = record["op"]
    if op not in OPS:
        return f"unknown op {op!r}"
    for key, kind in OPS[op].items():
        if key not in record:
            return f"{op!r} record without {key!r}"
        if not isinstance(record[key], kind) or isinstance(record[key], bool):
            return f"{op!r} record with a bad {key!r}"
    if op == "start" and not (isinstance(record.get("env", ""), str)
                              and type(record.get("max_points", 10)) is int and record.get("max_points", 10) >= 1):
        return "'start' record with a bad 'env' or 'max_points'"
    if not isinstance(record.get("opts", {}), dict):
        return f"{op!r} record with a bad 'opts'"
    if op == "settings" and not (isinstance(record.get("results", {}), dict)
                                 and type(record.get("omitted", 0)) is int):
        return "'settings' record with a bad 'results' or 'omitted'"
    if op in ("points", "line"):
        if not all(isinstance(v, list) and len(v) == len(record["x"]) for v in record["y"].values()):
            return f"{op!r} record whose y lists do not match x"
    elif op == "scalars" and not all(isinstance(v, NUMBER) for v in record["y"].values()):
        return "'scalars' record with a bad 'y'"
    return None


def parse(raw):
    """One journal line (bytes) -> (record, None), or (None, why it is skipped); (None, None)
    for a blank line."""
    line = raw.strip()
    if not line:
        return None, None
    try:
        record = json.loads(line.decode("utf-8"))
    except UnicodeDecodeError:
        return None, "binary data, not text"
    except ValueError:
        return None, "not JSON" if raw.endswith(b"\n") else "a torn last line (the run ended mid-write)"
    why = problem(record)
    return (None, why) if why else (record, None)


def read(path, expand=True, skipped=None):
    """Yield the journal's valid records, streaming; every other line (garbage, binary, a torn
    last line, a record the window model cannot apply) is skipped and, when `skipped` is a list,
    appended to it as (line number, why).

    expand=True turns each batched "points" record into per-point "scalars" records (today's
    form); expand=False yields batches as they are (vizlab.windows.Windows.apply takes both).
    """
    for _, record in numbered(path, skipped):
        if expand and record["op"] == "points":
            yield from _expand(record)
        else:
            yield record


def numbered(path, skipped=None):
    """(line number, record) of every valid line, as read() (batches as they are)."""
    with open(path, "rb") as f:
        for number, raw in enumerate(f, 1):
            record, why = parse(raw)
            if why is not None and skipped is not None:
                skipped.append((number, why))
            if record is not None:
                yield number, record


def read_since(path, offset=0, first_line=1, final=True):
    """What was appended to a journal being written: ([(line number, record or None, why)],
    bytes read). A last line without its newline is left for the next call (`vizlab compare
    --follow`), unless `final`: the journal is done, so it is a torn line, reported."""
    with open(path, "rb") as f:
        f.seek(offset)
        data = f.read()
    end = len(data) if final else data.rfind(b"\n") + 1
    lines = [(number, *parse(raw)) for number, raw in
             enumerate(data[:end].splitlines(keepends=True), first_line)]
    return lines, end


def skipped_message(path, skipped):
    """'PATH: skipped N lines that are not journal records: line 4 (not JSON), ...'."""
    return (f"{path}: skipped {len(skipped)} line{'s' if len(skipped) > 1 else ''} that "
            f"{'are' if len(skipped) > 1 else 'is'} not journal records: {skipped_lines(skipped)}")


def skipped_lines(skipped):
    """'line 4 (not JSON), line 9 (...)': the first few, and how many more."""
    first = ", ".join(f"line {n} ({why})" for n, why in skipped[:SHOW_SKIPPED])
    return first + (f" and {len(skipped) - SHOW_SKIPPED} more" if len(skipped) > SHOW_SKIPPED else "")


def _expand(record):
    traces = record["y"]
    for i, x in enumerate(record["x"]):
        yield {"op": "scalars", "win": record["win"], "x": x, "y": {t: v[i] for t, v in traces.items()}}
