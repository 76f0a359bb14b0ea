"""A run's numbers out of its journal: every raw point (not the decimated view) as rows
(run, window, trace, x, y), for `vizlab export` (CSV, or Parquet with pyarrow).

Streamed in journal order (bounded memory whatever the run's size). `run` is the journal's file
name without .jsonl (unique where runs share an env); a journal reused by a later run (a second
start record, not a resume) names the later runs NAME#2, NAME#3, ... A gap (a None the run
logged) is an empty y; NaN and infinities are "nan", "inf", "-inf" as in the journal. Every
line-window record counts: a `line()` call that replaced a window adds its points after those
logged before it.
"""

import csv
import os

from vizlab import journal as journal_mod

COLUMNS = ("run", "window", "trace", "x", "y")


def run_name(path):
    name = os.path.basename(path)
    return name[:-len(".jsonl")] if name.endswith(".jsonl") else name


def rows(path, skipped=None):
    """Yield (run, window, trace, x, y) of every point the journal at `path` holds, in order.
    Lines that are not records are skipped (and added to `skipped` as (line, why))."""
    base, runs, run = run_name(path), 0, run_name(path)
    for _, record in journal_mod.numbered(path, skipped):
        op = record["op"]
        if op == "start" and not record.get("resume"):
            runs += 1
            run = base if runs == 1 else f"{base}#{runs}"
        elif op == "scalars":
            for trace, y in record["y"].items():
                yield run, record["win"], trace, record["x"], y
        elif op == "points":   # a batch of scalars calls: in the order they were made
            win, traces = record["win"], list(record["y"].items())
            for i, x in enumerate(record["x"]):
                for trace, ys in traces:
                    yield run, win, trace, x, ys[i]
        elif op == "line":     # one call: trace by trace
            win, xs = record["win"], record["x"]
            for trace, ys in record["y"].items():
                for x, y in zip(xs, ys):
                    yield run, win, trace, x, y


def write_csv(paths, out, skipped=None):
    """Every point of every journal in `paths` as CSV to the text file `out`; returns the rows."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    count = 0
    for path in paths:
        for chunk in _chunks(rows(path, skipped)):
            writer.writerows(chunk)
            count += len(chunk)
    return count


def write_parquet(paths, target, skipped=None):
    """The same rows as a Parquet file at `target` (x and y as float64; a gap is null); returns
    the rows. Raises ImportError without pyarrow."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = pa.schema([("run", pa.string()), ("window", pa.string()), ("trace", pa.string()),
                        ("x", pa.float64()), ("y", pa.float64())])
    count = 0
    with pq.ParquetWriter(target, schema) as writer:
        for path in paths:
            for chunk in _chunks(rows(path, skipped)):
                columns = list(zip(*chunk))
                columns[3] = [_float(v) for v in columns[3]]
                columns[4] = [_float(v) for v in columns[4]]
                writer.write_table(pa.table(columns, schema=schema))
                count += len(chunk)
    return count


def _float(value):
    value = journal_mod.decode_number(value)
    return None if value is None else float(value)


def _chunks(iterable, size=65_536):
    chunk = []
    for row in iterable:
        chunk.append(row)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
