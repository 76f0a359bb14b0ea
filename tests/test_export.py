"""`vizlab export`: every raw point of a run's journal as run,window,trace,x,y (issue 30)."""

import csv
import io
import math

import pytest

from vizlab import VisdomLogger, journal as journal_mod
from vizlab.cli import main
from vizlab.windows import Windows


def journal_points(path):
    """[(window, trace, x, y)] read straight from the journal's records (the reference)."""
    out = []
    for record in journal_mod.read(path):   # batches expanded into one record per x
        if record["op"] == "scalars":
            out += [(record["win"], t, record["x"], journal_mod.decode_number(y)) for t, y in record["y"].items()]
        elif record["op"] == "line":
            out += [(record["win"], t, x, journal_mod.decode_number(y))
                    for t, ys in record["y"].items() for x, y in zip(record["x"], ys)]
    return out


def read_csv(text):
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["run", "window", "trace", "x", "y"]
    return [(r[0], r[1], r[2], float(r[3]), None if r[4] == "" else float(r[4])) for r in rows[1:]]


def same(a, b):
    return a == b or (isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b))


def test_csv_holds_every_point_of_the_journal(tmp_path, capsys):
    path = tmp_path / "lr0.1.jsonl"
    with VisdomLogger(env="ex", journal=str(path), send=False) as log:
        for step in range(300):
            log.scalars("loss", step, {"train": 1 / (step + 1), "val": float("nan") if step == 7 else step / 3})
        log.line("curve", [0, 1, 2], {"a": [3.0, float("nan"), 1.0]})
        log.scalar("curve", 3, 0.5, trace="a")
    assert main(["export", str(path)]) == 0
    got = read_csv(capsys.readouterr().out)
    want = journal_points(path)
    assert len(got) == len(want) == 300 * 2 + 4
    assert all(g[0] == "lr0.1" for g in got)
    assert all(g[1:3] == w[:2] and g[3] == w[2] and same(g[4], w[3]) for g, w in zip(got, want))


@pytest.mark.slow
def test_a_decimated_trace_of_a_million_points_exports_whole(tmp_path, capsys):
    path = tmp_path / "big.jsonl"
    with VisdomLogger(env="big", journal=str(path), send=False, max_points=1000, status=False) as log:
        for step in range(1_000_000):
            log.scalar("loss", step, (step % 997) / 997.0, trace="train")
        assert log.stats["dropped"] == 0
    model = Windows("big", 1000)
    for record in journal_mod.read(path, expand=False):
        model.apply(record)
    assert len(model.windows["loss"].traces["train"].shown()[0]) <= 1000   # the view is decimated
    out = tmp_path / "big.csv"
    assert main(["export", str(path), "-o", str(out)]) == 0
    assert "1000000 points" in capsys.readouterr().out
    got = read_csv(out.read_text())
    assert got == [("big", "loss", "train", float(s), (s % 997) / 997.0) for s in range(1_000_000)]


def test_parquet_equals_the_csv(tmp_path, capsys):
    pq = pytest.importorskip("pyarrow.parquet")
    paths = []
    for lr in (0.1, 0.01):
        paths.append(str(tmp_path / f"lr{lr}.jsonl"))
        with VisdomLogger(env="ex", journal=paths[-1], send=False) as log:
            for step in range(50):
                log.scalar("loss", step, lr * step if step != 3 else float("inf"), trace="train")
    assert main(["export", *paths]) == 0
    csv_rows = read_csv(capsys.readouterr().out)
    assert main(["export", *paths, "-o", str(tmp_path / "runs.parquet")]) == 0
    table = pq.read_table(tmp_path / "runs.parquet").to_pylist()
    assert [tuple(r.values()) for r in table] == csv_rows
    assert {r[0] for r in csv_rows} == {"lr0.1", "lr0.01"}


def test_a_missing_journal_is_one_line(tmp_path, capsys):
    assert main(["export", str(tmp_path / "nope.jsonl")]) == 2
    err = capsys.readouterr().err
    assert "no journal at" in err and len(err.strip().splitlines()) == 1
