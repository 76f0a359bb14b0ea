"""vizlab against the loggers a user would pick instead, in one run: what one scalar call costs
the training thread (p50/p99, Python float and 0-d tensor), and 100,000 calls then close()
(calls/s), with a read-back of what each logger kept from its own storage.

Peers, each optional (skipped with a note when not installed): torch's SummaryWriter,
tensorboardX, wandb (offline), mlflow (file store), aim, trackio. vizlab logs to a live
`vizlab serve` server this script starts, twice: this tree and the whole tree of --before
(benchmarks/baseline.py), each round of each in a child process of its own, to the same server.
Rounds are interleaved (every logger once per round, the order rotating), figures are medians over
rounds; the load average is printed.
Run: .venv/bin/python benchmarks/peers.py [--before 46a1acc --calls 20000 --close-calls 100000 --rounds 3]
"""

import argparse
import importlib
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import baseline  # noqa: E402

baseline.use_tree()   # this tree, or --before's copy in a child
from vizlab import VisdomLogger, VisdomServer  # noqa: E402
from vizlab import journal as journal_mod  # noqa: E402


class Peer:
    """make(folder) -> (log(step, value), close()); kept(folder) -> values read back."""
    module = None

    def round(self, tmp, args, r):
        return one_round(self, tmp, args, r)

    def available(self):
        try:
            importlib.import_module(self.module)
            return True
        except Exception as err:   # not installed, or broken: say so, measure the others
            self.missing = f"{type(err).__name__}: {err}"
            return False


class Vizlab(Peer):
    name, module = "vizlab VisdomLogger (live server)", "vizlab"

    def __init__(self, port):
        self.port = port

    def make(self, folder):
        self.journal = os.path.join(folder, "run.jsonl")
        log = VisdomLogger(env=f"peers_{time.monotonic_ns()}", port=self.port, journal=self.journal)
        return (lambda step, value: log.scalar("loss", step, value)), log.close

    def kept(self, folder):
        return [r["y"]["value"] for r in journal_mod.read(self.journal) if r.get("op") == "scalars"]


class TorchTB(Peer):
    name, module = "torch.utils.tensorboard SummaryWriter", "torch.utils.tensorboard"

    def make(self, folder):
        from torch.utils.tensorboard import SummaryWriter
        writer = SummaryWriter(folder)
        return (lambda step, value: writer.add_scalar("loss", value, step)), writer.close

    def kept(self, folder):
        from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
        acc = EventAccumulator(folder, size_guidance={"scalars": 0})
        acc.Reload()
        return [e.value for e in acc.Scalars("loss")]


class TensorboardX(TorchTB):
    name, module = "tensorboardX SummaryWriter", "tensorboardX"

    def make(self, folder):
        from tensorboardX import SummaryWriter
        writer = SummaryWriter(folder)
        return (lambda step, value: writer.add_scalar("loss", value, step)), writer.close


class Wandb(Peer):
    name, module = "wandb (offline)", "wandb"

    def make(self, folder):
        import wandb
        run = wandb.init(project="peers", dir=folder, mode="offline")
        return (lambda step, value: run.log({"loss": value}, step=step)), run.finish

    def kept(self, folder):
        return None   # reading wandb's offline .wandb file is not implemented here


class Mlflow(Peer):
    name, module = "mlflow (file store, sync)", "mlflow"

    def make(self, folder):
        os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
        os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")
        import mlflow
        mlflow.set_tracking_uri(Path(folder).as_uri())
        self.run = mlflow.start_run()
        return (lambda step, value: mlflow.log_metric("loss", float(value), step=step)), mlflow.end_run

    def kept(self, folder):
        from mlflow.tracking import MlflowClient
        return [m.value for m in MlflowClient().get_metric_history(self.run.info.run_id, "loss")]


class Aim(Peer):
    name, module = "aim", "aim"

    def make(self, folder):
        from aim import Run
        run = Run(repo=folder)
        return (lambda step, value: run.track(value, name="loss", step=step)), run.close

    def kept(self, folder):
        return None


class Trackio(Peer):
    name, module = "trackio", "trackio"

    def make(self, folder):
        import trackio
        os.environ["TRACKIO_DIR"] = folder
        trackio.init(project="peers")
        return (lambda step, value: trackio.log({"loss": value}, step=step)), trackio.finish

    def kept(self, folder):
        return None


def per_call(log, calls, value, start):
    timer, samples = time.perf_counter_ns, []
    for step in range(start, start + calls):
        t0 = timer()
        log(step, value)
        samples.append(timer() - t0)
    samples.sort()
    return samples[len(samples) // 2] / 1000, samples[int(0.99 * (len(samples) - 1))] / 1000


class VizlabTree(Peer):
    """vizlab from the tree of `rev` (None: this one), each round in a child process of its own."""
    module = "vizlab"

    def __init__(self, port, rev):
        self.port, self.rev = port, rev
        self.name = f"vizlab VisdomLogger (live server), {baseline.describe(rev)}"

    def round(self, tmp, args, r):
        return baseline.child(self.rev, __file__, ["--child", str(self.port), "--round", str(r), "--calls",
                                                   str(args.calls), "--close-calls", str(args.close_calls)])


def one_round(peer, tmp, args, r):
    """Per-call costs (float, tensor), then --close-calls calls and close(), then the read-back."""
    folder = tempfile.mkdtemp(dir=tmp, prefix=f"{peer.module}_{r}_")
    log, close = peer.make(folder)
    out = {"float": per_call(log, args.calls, 0.5, 0), "tensor": per_call(log, args.calls, torch.tensor(0.5),
                                                                         args.calls)}
    close()
    folder = tempfile.mkdtemp(dir=tmp, prefix=f"{peer.module}_{r}_close_")
    log, close = peer.make(folder)
    t0 = time.perf_counter()
    for step in range(args.close_calls):
        log(step, step * 1e-3)
    close()
    out["calls_per_s"] = args.close_calls / (time.perf_counter() - t0)
    kept = peer.kept(folder)
    out["kept"] = None if kept is None else len(kept)
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", default=baseline.BEFORE, help="the commit to compare with (its whole tree)")
    parser.add_argument("--calls", type=int, default=20_000, help="timed calls per kind and round")
    parser.add_argument("--close-calls", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--child", type=int, metavar="PORT", help=argparse.SUPPRESS)
    parser.add_argument("--round", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    torch.set_num_threads(1)
    if args.child:   # one round of vizlab (this tree's or --before's) to the parent's server
        with tempfile.TemporaryDirectory() as tmp:
            baseline.emit(one_round(Vizlab(args.child), tmp, args, args.round))
        return
    print(f"load average before: {os.getloadavg()}; before = {baseline.describe(args.before)}, "
          f"now = {baseline.describe(None)} ({baseline.head()})")
    with tempfile.TemporaryDirectory() as tmp, VisdomServer(env_path=os.path.join(tmp, "env"),
                                                            startup_timeout=180) as srv:
        peers = [VizlabTree(srv.port, None), VizlabTree(srv.port, args.before), TorchTB(), TensorboardX(),
                 Wandb(), Mlflow(), Aim(), Trackio()]
        present = [p for p in peers if p.available()]
        for p in peers:
            if p not in present:
                print(f"skipped {p.name}: not installed ({p.missing})")
        results = {p.name: [] for p in present}
        for r in range(args.rounds):
            for p in present[r % len(present):] + present[:r % len(present)]:
                results[p.name].append(p.round(tmp, args, r))
                print(r, p.name, results[p.name][-1], flush=True)
    print(f"load average after: {os.getloadavg()}")
    base = statistics.median(x["float"][0] for x in results[present[0].name])   # this tree's vizlab
    print(f"\nmedians of {args.rounds} interleaved rounds; {args.calls:,} timed calls per kind, "
          f"{args.close_calls:,} calls then close()")
    print("| logger | float p50 / p99 | ratio to vizlab (p50) | 0-d tensor p50 / p99 | calls/s to close | kept |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, rows in results.items():
        f50, f99 = (statistics.median(x["float"][i] for x in rows) for i in (0, 1))
        t50, t99 = (statistics.median(x["tensor"][i] for x in rows) for i in (0, 1))
        rate = statistics.median(x["calls_per_s"] for x in rows)
        kept = rows[-1]["kept"]
        print(f"| {name} | {f50:.2f} / {f99:.1f} µs | {f50 / base:.1f}x | {t50:.2f} / {t99:.1f} µs | "
              f"{rate:,.0f} | {'not read back' if kept is None else f'{kept:,} of {args.close_calls:,}'} |")
    now, before = (statistics.median(x["calls_per_s"] for x in results[p.name]) for p in present[:2])
    print(f"vizlab, {args.close_calls:,} calls then close(): {now / before:.2f}x the calls/s of "
          f"{baseline.describe(args.before)}")


if __name__ == "__main__":
    main()
