"""Issue 18's invariant under random calls, values and faults: every call either raises
ValueError/TypeError at the call or is accepted; the journal holds exactly the accepted calls
(or counts those a full disk refused); every window on the server equals the window model (read
back); the background threads stay alive; a replay of the journal equals the live windows.

Faults, one per example at a random call: the server stopped and started again empty, frozen
(SIGSTOP) and resumed, or the journal's tmpfs filled and freed (where mount is permitted)."""

import itertools
import json
import os
import signal
import subprocess
from decimal import Decimal

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings, strategies as st
from visdom import Visdom

from vizlab import VisdomLogger, VisdomServer
from vizlab import journal as journal_mod
from vizlab.journal import calls
from vizlab.cli.replay import replay
from support.disk import fill

pytestmark = pytest.mark.server   # starts or needs a real Visdom server

RUN = itertools.count()
KINDS = ["float", "int", "np32", "np64", "tensor", "decimal"]
BAD_X = [float("nan"), float("inf"), 10 ** 400]


def as_kind(value, kind):
    if kind == "int" and isinstance(value, float):
        return int(value) if value == value and abs(value) < 2 ** 53 else value
    with np.errstate(over="ignore", invalid="ignore"):
        if kind == "np32":
            return np.float32(value) if abs(float(value)) < 1e300 or value != value else np.float32("inf")
        if kind == "np64":
            return np.float64(value)
    if kind == "tensor":
        return torch.tensor(float(value), dtype=torch.float64)
    if kind == "decimal":
        return Decimal(value) if isinstance(value, int) or value == value else Decimal("NaN")
    return value


ys = st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-2 ** 62, 2 ** 62),
               st.just(10 ** 30))
x_kind = st.one_of(st.sampled_from(KINDS[:5]), st.sampled_from(BAD_X))
width = st.one_of(st.none(), st.sampled_from([np.int64(300), np.float32(250.5), Decimal("280"),
                                              torch.tensor(320), 400, float("nan"), 10 ** 400]))
call = st.one_of(
    st.tuples(st.just("scalar"), st.sampled_from(["s0", "s1"]), st.sampled_from(["t1", "t2"]), x_kind,
              ys, st.sampled_from(KINDS)),
    st.tuples(st.just("scalars"), st.sampled_from(["s0", "s2"]), x_kind,
              st.dictionaries(st.sampled_from(["a", "b c"]), ys, min_size=1), st.sampled_from(KINDS)),
    st.tuples(st.just("line"), st.lists(st.floats(allow_nan=True), min_size=1, max_size=6),
              st.booleans()),
    st.tuples(st.just("text"), st.text(max_size=20), width),
    st.tuples(st.just("figure"), st.lists(ys, min_size=1, max_size=5), st.integers(0, 80)),
    st.tuples(st.just("window"), width, st.sampled_from([np.float32(0.0), np.int64(5), Decimal("1")])),
)


def make_call(log, spec, step, declared):
    """Make one call; True if accepted, False if refused with ValueError/TypeError."""
    kind = spec[0]
    try:
        if kind == "scalar":
            _, win, trace, xk, y, yk = spec
            x = xk if not isinstance(xk, str) else as_kind(step, xk)
            log.scalar(win, x, as_kind(y, yk), trace=trace)
        elif kind == "scalars":
            _, win, xk, values, yk = spec
            x = xk if not isinstance(xk, str) else as_kind(step, xk)
            log.scalars(win, x, {k: as_kind(v, yk) for k, v in values.items()})
        elif kind == "line":
            _, values, as_array = spec
            xs = list(range(len(values)))
            ys_ = np.array(values) if as_array else torch.tensor(values)
            log.line("l0", np.array(xs) if as_array else xs, {"c": ys_}, linecolor=np.array([255, 0, 0]))
        elif kind == "text":
            _, html, w = spec
            log.text("t0", html, **({} if w is None else {"width": w}))
        elif kind == "figure":
            _, values, depth = spec
            nested = values
            for _ in range(depth):
                nested = [nested]
            log.figure("f0", [{"type": "bar", "y": np.array(values, dtype=object) if depth == 0 else nested}],
                       {"title": "f", "yaxis": {"range": [np.float32(0), Decimal("2")]}})
        else:
            _, w, tick = spec
            name = f"d{len(declared)}"
            declared.append(name)
            log.window(name, kind="line", ytickmin=tick, ytickmax=tick + 1,
                       layoutopts={"plotly": {"xaxis": {"tickvals": np.arange(3)}}},
                       **({} if w is None else {"width": w}))
    except (ValueError, TypeError):
        return False
    return True


def server_windows(port, env, names):
    viz = Visdom(port=port, raise_exceptions=True, use_incoming_socket=False)
    return {name: json.loads(viz.get_window_data(name, env=env))["content"] for name in names}


def model_view(win):
    """What the server should hold for one model window, in the server's terms."""
    if win.kind == "lines":
        return {n: t.shown() for n, t in win.traces.items()}
    data = win.message["data"]
    return data if "layout" in win.message else data[0]["content"]


def server_view(win, content):
    if win.kind == "lines":
        return {t["name"]: (t["x"], t["y"]) for t in content["data"] if t["name"] or t["x"]}
    return content["data"] if "layout" in win.message else content


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """A server of this module's own (the faults stop it) and a small tmpfs, if mount works."""
    tmp = tmp_path_factory.mktemp("faults-prop")
    disk = tmp / "disk"
    disk.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(disk)],
                             capture_output=True).returncode == 0
    with VisdomServer(env_path=tmp / "env") as srv:
        yield srv, disk if mounted else tmp, mounted
    if mounted:
        subprocess.run(["umount", "-l", str(disk)])


@settings(max_examples=20, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.data_too_large])
@given(specs=st.lists(call, min_size=1, max_size=25),
       fault=st.sampled_from(["none", "down", "freeze", "disk"]), at=st.floats(0, 1))
def test_random_calls_under_random_faults_keep_the_invariant(world, specs, fault, at):
    srv, folder, mounted = world
    if fault == "disk" and not mounted:
        fault = "none"   # mount -t tmpfs is not permitted here: no full-disk fault
    env = f"flt_prop_{next(RUN)}"
    path = folder / f"{env}.jsonl"
    filler = folder / "filler"
    # status=False: the status pane's clock moves between reading the model and the server
    # (tests/test_status.py reads it back)
    log = VisdomLogger(env=env, port=srv.port, journal=str(path), close_timeout=10, status=False)
    start, end = int(at * len(specs)), int(at * len(specs)) + max(1, len(specs) // 3)
    accepted, declared = 0, []
    try:
        for i, spec in enumerate(specs):
            if i == start:
                if fault == "down":
                    srv.stop()
                elif fault == "freeze":
                    os.kill(srv.process.pid, signal.SIGSTOP)
                elif fault == "disk":
                    log.journal_offset(timeout=30)
                    fill(filler)
            if i == end:
                _recover(srv, fault, filler)
            accepted += make_call(log, spec, i, declared)
    finally:
        _recover(srv, fault, filler)   # each step is harmless when already done
    assert log.flush(timeout=60)
    assert log._writer.is_alive() and log._sender.is_alive()
    model = log._writer.model
    with log._writer.model_lock:
        expected = {name: model_view(win) for name, win in model.windows.items()}
        kinds = dict(model.windows)
    shown = server_windows(srv.port, env, list(expected))
    assert {n: server_view(kinds[n], c) for n, c in shown.items()} == expected
    log.close()
    stats = log.stats
    assert stats["accepted"] == accepted and stats["dropped"] == 0 and stats["unwritten"] == 0
    records = [r for r in journal_mod.read(str(path), expand=False) if r["op"] != "start"]
    assert sum(map(calls, records)) == stats["journaled"] == accepted - stats["journal_missed"]
    if stats["journal_missed"] == 0:
        replay(str(path), port=srv.port, env=env + "_rp")
        assert server_windows(srv.port, env + "_rp", list(expected)) == shown
    os.remove(path)


def _recover(srv, fault, filler):
    """End the fault: start the stopped server (empty), resume the frozen one, free the disk."""
    if fault == "down" and (srv.process is None or srv.process.poll() is not None):
        srv.start()
    elif fault == "freeze":
        os.kill(srv.process.pid, signal.SIGCONT)
    elif fault == "disk" and filler.exists():
        os.remove(filler)
