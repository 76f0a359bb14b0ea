"""vizlab.Visdom under a real server's faults: missing at start, frozen 6 s (SIGSTOP), restarted
empty. The loop is ssd.pytorch's (one `line(update='append')` of three traces per iteration
into a window made with a title and a legend): no call waits on the server, and at the end
every point is on the server with the title and legend the window was made with."""

import os
import signal
import time

import numpy as np
import pytest
import torch

from support import windows
from vizlab import Visdom
from vizlab.server.process import VisdomServer, free_port

pytestmark = pytest.mark.server   # starts real Visdom servers

LEGEND = ["Loc Loss", "Conf Loss", "Total Loss"]
HANG = 1.0   # s: a hang detector only; the figure is printed (the target is 50 ms)


def test_raw_client_loop_survives_missing_frozen_and_restarted_server(tmp_path, capsys):
    port = free_port("127.0.0.1")
    server = VisdomServer(port=port, log_path=tmp_path / "visdom.log")
    viz = Visdom(port=port, env="faults", use_incoming_socket=False, journal=tmp_path / "j.jsonl")
    win = viz.line(X=torch.zeros((1,)).cpu(), Y=torch.zeros((1, 3)).cpu(),
                   opts=dict(xlabel="Iteration", ylabel="Loss", title="SSD.PyTorch", legend=LEGEND))
    slowest, iteration = 0.0, 0

    def log(n, pause=0.0):
        nonlocal slowest, iteration
        for _ in range(n):
            iteration += 1
            loss = torch.Tensor([0.5, 0.25, 0.75]) / iteration
            start = time.perf_counter()
            viz.line(X=torch.ones((1, 3)).cpu() * iteration, Y=loss.unsqueeze(0).cpu(),
                     win=win, update="append")
            slowest = max(slowest, time.perf_counter() - start)
            time.sleep(pause)

    try:
        log(100)                                   # no server yet
        server.start()
        log(100, pause=0.002)
        os.kill(server.process.pid, signal.SIGSTOP)
        frozen = time.monotonic()
        while time.monotonic() - frozen < 6.0:     # calls go on for the 6 s it is frozen
            log(10, pause=0.01)
        os.kill(server.process.pid, signal.SIGCONT)
        log(100, pause=0.002)
        server.stop()                              # killed, and back empty on the same port
        log(50)
        server.start()
        log(100, pause=0.002)
        assert viz.flush(120), "the calls did not all reach the server"
        data = windows.window(port, "faults", win)
        with capsys.disabled():
            print(f"\nslowest of {iteration} appends: {slowest * 1e3:.1f} ms")
    finally:
        if server.process is not None:
            os.kill(server.process.pid, signal.SIGCONT)
        server.stop()
    assert data["title"] == "SSD.PyTorch"
    traces = data["content"]["data"]
    assert [t["name"] for t in traces] == LEGEND
    expected_x = [0.0] + [float(i) for i in range(1, iteration + 1)]
    for k, trace in enumerate(traces):
        assert trace["x"] == expected_x
        np.testing.assert_allclose(trace["y"][1:], [[0.5, 0.25, 0.75][k] / i
                                                    for i in range(1, iteration + 1)], rtol=1e-6)
    assert slowest < HANG
