"""Issue 18, findings 1-5: what a user's ordinary faults cost the journal, measured.

    python benchmarks/faults.py [--only 0,1,2,3,4,5]

Each figure counts calls in the journal (vizlab.journal.read) against calls made:
 0. (not a finding) the median cost of one scalar() call with a Python float, the fast path
 1. a NumPy option (ytickmax=np.float32(1.0)), then 20,000 scalar calls
 2. 2 traces x 5,000 steps, x from a NumPy scalar, one x NaN: points of the other trace kept
 3. a 512 KiB tmpfs filled by another file for a while, 30,000 points: journal lines that parse,
    points in the journal (needs root for mount; says so otherwise)
 4. a journal with one garbage line in the middle: records `vizlab replay` rebuilds (read only)
 5. 8 processes of one env starting together, 5 rounds: rounds where two shared a journal
No server: send=False (the live view is not what is measured here).
"""

import argparse
import glob
import json
import multiprocessing
import os
import subprocess
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))
from support.disk import fill  # noqa: E402  (the tests' helper: fill a tmpfs to the last byte)

from vizlab import VisdomLogger
from vizlab import journal as journal_mod


def journal_points(path, win=None):
    """(points in the journal, lines that do not parse), read without trusting the reader."""
    points = bad = 0
    with open(path, "rb") as f:
        for line in f:
            try:
                r = json.loads(line)
            except ValueError:
                bad += 1
                continue
            if isinstance(r, dict) and r.get("op") in ("scalars", "points") and (win is None or r["win"] == win):
                n = len(r["x"]) if r["op"] == "points" else 1
                points += n * len(r["y"])
    return points, bad


def run_logged(fn):
    """fn(log) -> (outcome, stats); any exception at a call is the outcome."""
    try:
        return fn()
    except Exception as err:
        return f"raised {type(err).__name__}: {err}"


def finding0(tmp):
    """The fast path's cost (scalar() with a Python float), which the checks must not raise:
    the best of 15 runs of 100,000 calls (the least disturbed by other load)."""
    import timeit

    log = VisdomLogger(env="f0", journal=False, send=False, queue_size=10 ** 8)
    log.scalar("w", 0, 0.0)
    runs = timeit.repeat(lambda: log.scalar("w", 7, 0.5), number=100_000, repeat=15)
    log.close()
    print(f"0. one scalar() call, Python float: {min(runs) * 1e4:.0f} ns (best of 15 x 100,000 calls)")


def finding1(tmp):
    path = os.path.join(tmp, "f1.jsonl")
    log = VisdomLogger(env="f1", journal=path, send=False)
    try:
        log.window("acc", kind="line", ytickmax=np.float32(1.0))
    except (TypeError, ValueError) as err:
        refused = f"refused at the call ({type(err).__name__})"
    else:
        refused = "accepted (converted at the call)"
    for step in range(20_000):
        log.scalar("loss", step, float(step))
    alive = log._writer.is_alive()
    log.close()
    points, _ = journal_points(path, "loss")
    print(f"1. NumPy option {refused}; of 20,000 later scalar calls {points} in the journal; "
          f"journal thread alive: {alive}; stats errors {log.stats['errors']}")


def finding2(tmp):
    path = os.path.join(tmp, "f2.jsonl")
    log = VisdomLogger(env="f2", journal=path, send=False)
    refused = 0
    for step in range(5_000):
        x = np.float64("nan") if step == 2_500 else np.float64(step)
        try:
            log.scalar("lr", x, 0.1)
        except ValueError:
            refused += 1
        log.scalar("loss", step, float(step))
    log.close()
    lr, _ = journal_points(path, "lr")
    loss, _ = journal_points(path, "loss")
    print(f"2. one NaN x among 5,000 NumPy x: {refused} refused at the call; journal holds "
          f"lr {lr} / 5,000, loss {loss} / 5,000")


def finding3(tmp):
    mount = os.path.join(tmp, "f3")
    os.makedirs(mount)
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=512k", "tmpfs", mount],
                      capture_output=True).returncode:
        print("3. skipped: mount -t tmpfs not permitted here (needs root)")
        return
    try:
        path = os.path.join(mount, "f3.jsonl")
        log = VisdomLogger(env="f3", journal=path, send=False)
        filler = os.path.join(mount, "filler")
        fill(filler)
        for step in range(30_000):
            if step == 10_000:
                log.flush()
                os.remove(filler)        # space returns
            log.scalar("loss", step, float(step))
        try:
            log.close()
        except Exception as err:
            print(f"   close() raised {type(err).__name__}")
        points, bad = journal_points(path)
        print(f"3. disk full for 10,000 of 30,000 points, then freed: journal holds {points} points, "
              f"{bad} lines that do not parse; stats errors {log.stats['errors']}")
    finally:
        subprocess.run(["umount", "-l", mount])


def finding4(tmp):
    path = os.path.join(tmp, "f4.jsonl")
    with VisdomLogger(env="f4", journal=path, send=False) as log:
        for step in range(1_000):
            log.scalars("loss", step, {"train": 1.0}, title="t")   # options: one record per call
    lines = open(path).read().splitlines()
    lines.insert(500, "garbage")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    kept = 0
    try:
        for record in journal_mod.read(path, expand=True):
            kept += record.get("op") == "scalars"
    except ValueError as err:
        kept = f"0 (the read aborts: {err})"
    print(f"4. one garbage line among 1,001: replay reads {kept} of 1,000 points")


def _start(env, directory, barrier):
    os.chdir(directory)
    barrier.wait()
    log = VisdomLogger(env=env, send=False)
    for step in range(1_000):
        log.scalar("loss", step, float(step))
    log.close()


def finding5(tmp):
    shared = 0
    ctx = multiprocessing.get_context("spawn")
    for round_ in range(5):
        directory = os.path.join(tmp, f"f5-{round_}")
        os.makedirs(directory)
        barrier = ctx.Barrier(8)
        procs = [ctx.Process(target=_start, args=("f5", directory, barrier)) for _ in range(8)]
        for p in procs:
            p.start()
        for p in procs:
            p.join()
        files = glob.glob(os.path.join(directory, "runs", "*.jsonl"))
        shared += len(files) < 8
    print(f"5. 8 processes of one env starting together: {shared} of 5 rounds shared a journal")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="1,2,3,4,5")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.only.split(","):
            globals()[f"finding{n}"](tmp)
            sys.stdout.flush()


if __name__ == "__main__":
    main()
