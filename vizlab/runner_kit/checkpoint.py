"""`--checkpoint PATH` and `--resume PATH` for the runners, in a few lines each:

    checkpoint.add_options(parser)
    ckpt = checkpoint.Checkpoint(parser, args, "mnist_mlp", model=model, optimizer=optimizer,
                                 scheduler=schedule, generators=[shuffle])
    first = ckpt.resume()                        # 1, or the epoch after the checkpoint's
    with runner_kit.open_logger(args, **ckpt.logger_options()) as log:
        for epoch in range(first, args.epochs + 1):
            ...
            ckpt.save(epoch, log)

A checkpoint holds the runner's name and settings, every state_dict (model, optimizer,
scheduler; dicts of them for runners that train several models), the RNG states (Python, NumPy,
torch, CUDA, the runner's own generators), the last finished epoch (or step block) and the
journal's path and size. It is written to PATH.tmp and renamed over PATH, so a kill mid-save
leaves the previous checkpoint whole. Resuming truncates the journal at that size and continues
the same windows (VisdomLogger resume_from=), so the plots go on at the right x.
"""

import os
import random

import numpy as np
import torch

from vizlab.runner_kit import PLUMBING

FORMAT = "vizlab-checkpoint-1"
# Settings a resumed run may change: how long it trains, where it runs and reports.
MAY_CHANGE = set(PLUMBING) | {"epochs", "device", "checkpoint", "resume"}


def add_options(parser):
    parser.add_argument("--checkpoint", default=None, metavar="PATH",
                        help="save the run to PATH after every epoch (written to PATH.tmp, then renamed)")
    parser.add_argument("--resume", default=None, metavar="PATH",
                        help="continue the run saved in PATH, in its journal and windows (None: start fresh)")


def rng_states(generators):
    state = {"python": random.getstate(), "numpy": _numpy_state(), "torch": torch.get_rng_state(),
             "generators": [g.get_state() for g in generators]}
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_states(state, generators):
    random.setstate(state["python"])
    name, keys, pos, has_gauss, cached = state["numpy"]
    np.random.set_state((name, np.array(keys, dtype=np.uint32), pos, has_gauss, cached))
    torch.set_rng_state(state["torch"])
    for generator, saved in zip(generators, state["generators"]):
        generator.set_state(saved)
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def _numpy_state():
    name, keys, pos, has_gauss, cached = np.random.get_state()
    return name, keys.tolist(), pos, has_gauss, cached   # plain lists: loadable with weights_only


def _states(obj):
    """state_dict of an object (a tensor: itself), or of each value of a dict of them."""
    if isinstance(obj, dict):
        return {k: _states(v) for k, v in obj.items()}
    return obj.detach().clone() if isinstance(obj, torch.Tensor) else obj.state_dict()


def _load(obj, state):
    if isinstance(obj, dict):
        for k, v in obj.items():
            _load(v, state[k])
    elif isinstance(obj, torch.Tensor):
        with torch.no_grad():
            obj.copy_(state)
    else:
        obj.load_state_dict(state)


def _shapes(states, prefix=""):
    if isinstance(states, torch.Tensor):
        return {prefix: tuple(states.shape)}
    return {k: v for name, sub in states.items() for k, v in _shapes(sub, f"{prefix}.{name}").items()}


class Checkpoint:
    """Save after every epoch to args.checkpoint; resume from args.resume. See the module docstring."""

    def __init__(self, parser, args, runner, model, optimizer=None, scheduler=None, generators=(), every=1):
        """model, optimizer, scheduler: objects with state_dict() (or dicts of them; the model may
        be a tensor); generators: the runner's torch.Generators; every: save every N epochs/steps."""
        self.parser, self.args, self.runner, self.generators = parser, args, runner, list(generators)
        self.every, self.extra = every, {}
        self.objects = {k: v for k, v in dict(model=model, optimizer=optimizer, scheduler=scheduler).items()
                        if v is not None}
        self.offset = None

    def settings(self):
        return {k: v for k, v in sorted(vars(self.args).items()) if k not in MAY_CHANGE}

    def resume(self, start=1):
        """Load args.resume into the model, optimizer, scheduler and RNGs (and self.extra, what
        save() was given as keywords); point args.journal at the run's journal. Returns the first
        epoch (or step) to run: `start` without --resume."""
        path = self.args.resume
        if not path:
            return start
        state = self._read(path)
        fail = lambda problem: self.parser.error(f"--resume {path}: {problem}")  # noqa: E731
        if state.get("runner") != self.runner:
            fail(f"a checkpoint of runner {state.get('runner')!r}, not {self.runner!r}")
        saved, now = state["settings"], self.settings()
        changed = [f"--{k.replace('_', '-')} {saved.get(k)} (this run: {now.get(k)})"
                   for k in sorted(set(saved) | set(now)) if saved.get(k) != now.get(k)]
        if changed:
            fail("saved with different settings: " + ", ".join(changed) +
                 "; resume with the settings it was saved with (only --epochs and where it runs may change)")
        if state["shapes"] != _shapes(_states(self.objects["model"])):
            fail("a checkpoint of a different model (its layers' shapes differ from this one's)")
        if state["done"] >= self.args.epochs:
            fail(f"already trained {state['done']} of --epochs {self.args.epochs}; pass a larger --epochs")
        if self.args.journal and os.path.abspath(self.args.journal) != os.path.abspath(state["journal"]):
            fail(f"the run's journal is {state['journal']}, not --journal {self.args.journal}; leave --journal out")
        if not os.path.exists(state["journal"]):
            fail(f"the run's journal {state['journal']} is gone; a resumed run continues it")
        for name, obj in self.objects.items():
            _load(obj, state[name])
        set_rng_states(state["rng"], self.generators)
        self.extra = state["extra"]
        self.args.journal, self.offset = state["journal"], state["offset"]
        return state["done"] + 1

    def logger_options(self):
        """Keyword arguments for VisdomLogger/open_logger: continue the journal when resuming."""
        return {} if self.offset is None else {"resume_from": self.offset}

    def save(self, done, log, **extra):
        """After epoch (or step) `done`, every `every` and at the last: write the whole state and
        `extra` (tensors, numbers, lists: the runner's own history), then rename it over the last one."""
        path = self.args.checkpoint
        if not path or not log.active:   # under torchrun, rank 0 writes it
            return
        if done % self.every and done != self.args.epochs:
            return
        state = {"format": FORMAT, "runner": self.runner, "settings": self.settings(), "done": done,
                 "shapes": _shapes(_states(self.objects["model"])), "rng": rng_states(self.generators), "extra": extra,
                 "journal": os.path.abspath(log.journal_path), "offset": log.journal_offset(timeout=60)}
        state.update({name: _states(obj) for name, obj in self.objects.items()})
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        with open(f"{path}.tmp", "wb") as f:
            torch.save(state, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(f"{path}.tmp", path)

    def _read(self, path):
        if not os.path.isfile(path):
            self.parser.error(f"--resume {path}: no such file; pass the PATH a run saved with --checkpoint PATH")
        try:
            state = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as problem:  # torch raises several kinds for a file that is not its own
            self.parser.error(f"--resume {path}: not a vizlab checkpoint ({type(problem).__name__})")
        if not isinstance(state, dict) or state.get("format") != FORMAT:
            self.parser.error(f"--resume {path}: not a vizlab checkpoint (saved by --checkpoint)")
        return state
