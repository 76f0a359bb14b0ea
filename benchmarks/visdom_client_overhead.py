"""What a writing call costs the training thread: vizlab.Visdom against visdom.Visdom, same run,
both talking to one Visdom server this script starts on 127.0.0.1 (`vizlab serve`'s: its fast
appends make the stock client's calls cheaper than on stock Visdom, so the ratio is conservative).

    python benchmarks/visdom_client_overhead.py [--calls 300] [--repeats 3]

The calls are the ones Visdom programs make per iteration: ssd.pytorch's three-trace append of
tensors (`line(X=torch.ones((1, 3)) * it, Y=..., win=w, update='append')`), a one-point numpy
append (simple-faster-rcnn's `plot`), and a text pane rewrite; their arguments are made before the
clock starts (the program's own tensor work is not the call's). Each call is timed on its own;
clients are interleaved and compared as medians (the machine is shared and noisy). vizlab's
client is then flushed, so every point it accepted is on the server. Prints the load average, a
markdown table (p50 and p99) and the ratios.
"""

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
import visdom

from vizlab import Visdom

CASES = {   # the call's arguments, made before the clock starts: the program's own work is not timed
    "ssd append (torch, 3 traces)": ("line", lambda w, i: dict(
        X=torch.ones((1, 3)).cpu() * i, Y=torch.Tensor([0.5, 0.25, 0.75]).unsqueeze(0).cpu() / (i + 1),
        win=w, update="append")),
    "one-point append (numpy)": ("line", lambda w, i: dict(
        Y=np.array([1.0 / (i + 1)]), X=np.array([i]), win=w, opts=dict(title="loss"), update="append")),
    "text pane": ("text", lambda w, i: dict(text=f"step {i}", win=w)),
}


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--calls", type=int, default=300, help="calls per case and round (default: %(default)s)")
    p.add_argument("--repeats", type=int, default=3, help="rounds per client, interleaved (default: %(default)s)")
    return p.parse_args(argv)


def timed(viz, case, calls, env):
    method, make = CASES[case]
    first = make(None, 0)
    win = viz.line(X=np.zeros(1), Y=np.zeros((1, 3 if first.get("Y") is not None and first["Y"].ndim == 2 else 1)),
                   env=env, opts=dict(title=case))
    call, samples = getattr(viz, method), []
    for i in range(calls):
        kwargs = make(win, i)
        start = time.perf_counter_ns()
        call(env=env, **kwargs)
        samples.append(time.perf_counter_ns() - start)
    return samples


def main(argv=None):
    args = parse_args(argv)
    from vizlab.server.process import VisdomServer
    print(f"load average before: {os.getloadavg()}")
    clients = ("visdom.Visdom", "vizlab.Visdom")
    samples = {c: {case: [] for case in CASES} for c in clients}
    with tempfile.TemporaryDirectory() as tmp, VisdomServer(env_path=f"{tmp}/env") as server:
        stock = visdom.Visdom(port=server.port, use_incoming_socket=False)
        ours = Visdom(port=server.port, use_incoming_socket=False, journal=Path(tmp) / "run.jsonl")
        for repeat in range(args.repeats):
            for case in CASES:
                order = clients[::-1] if repeat % 2 else clients   # neither always goes first
                for name in order:
                    viz = stock if name == "visdom.Visdom" else ours
                    samples[name][case] += timed(viz, case, args.calls, f"bench_{repeat}")
        start = time.monotonic()
        delivered = ours.flush(300)
        print(f"vizlab.Visdom flushed: {delivered} ({time.monotonic() - start:.1f} s after the last call)")
    print(f"load average after: {os.getloadavg()}")
    print("\n| call | visdom.Visdom p50 | vizlab.Visdom p50 | visdom.Visdom p99 | vizlab.Visdom p99 | "
          "ratio (p50) |\n|---|---|---|---|---|---|")
    for case in CASES:
        p50 = {c: statistics.median(samples[c][case]) / 1000 for c in clients}
        p99 = {c: statistics.quantiles(samples[c][case], n=100)[98] / 1000 for c in clients}
        print(f"| {case} | {p50[clients[0]]:.0f} µs | {p50[clients[1]]:.1f} µs | "
              f"{p99[clients[0]]:.0f} µs | {p99[clients[1]]:.1f} µs | "
              f"{p50[clients[0]] / p50[clients[1]]:.0f}x |")


if __name__ == "__main__":
    main()
