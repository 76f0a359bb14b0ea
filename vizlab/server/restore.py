"""Runs that survive their server: `vizlab serve` rebuilds every run it has a journal for.

Visdom keeps windows in memory only, so a restarted server is empty. The journals are the record:
those of the runs logged to this server (vizlab.run_registry, written by each logger) and those
under the `--logdir` folders. At start every known run is rebuilt from its journal, finished runs
included and journals that grew while the server was down read to their end (a page is there
when someone opens it, and a run costs milliseconds: see docs/server.md for the figures); a
foreground `vizlab serve` then rebuilds, every round, any known run whose env is missing (a new
journal in a logdir, a run that ended while the server was away). A run whose logger is still
open is left alone: it resends its own windows to the restarted server.
"""

import json
import os
import time

import psutil
import requests

from vizlab import landing, rebuild, run_registry
from vizlab.connection import Connection, ServerRefused


def live(entry):
    """The journal's logger is still open in a running process (a recycled pid is not it)."""
    if not entry.get("open") or not isinstance(entry.get("pid"), int):
        return False
    try:
        process = psutil.Process(entry["pid"])
        return (process.status() != psutil.STATUS_ZOMBIE
                and process.create_time() <= entry.get("time", 0) + 1.0)
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return False


def first_env(path):
    """The env named by the journal's first line (cheap: one line read), or None."""
    try:
        with open(path, "rb") as f:
            record = json.loads(f.readline())
        return record.get("env", "main") if isinstance(record, dict) else None
    except (OSError, ValueError):
        return None


class Restore:
    """What one restore did: runs rebuilt, windows sent, and the journals it passed over."""

    def __init__(self):
        self.runs, self.windows, self.seconds = 0, 0, 0.0
        self.live, self.unreadable, self.failed = [], [], []

    def line(self):
        parts = [f"restored {self.runs} run{'s' * (self.runs != 1)} ({self.windows} windows) "
                 f"from their journals in {self.seconds:.1f} s"]
        if self.live:
            parts.append(f"{len(self.live)} still logging (they resend their own windows)")
        if self.unreadable:
            parts.append(f"{len(self.unreadable)} unreadable: {', '.join(self.unreadable[:3])}")
        if self.failed:
            parts.append(f"{len(self.failed)} refused by the server: {', '.join(self.failed[:3])}")
        return "; ".join(parts)


def restore(port, logdirs=(), only_missing=False, connection=None, seen=None):
    """Rebuild the known runs on the server at 127.0.0.1:`port` (only_missing: those whose env
    the server lacks); returns a Restore. `seen` ({path: size}, kept by the caller across rounds)
    passes over journals unchanged since they were last looked at (a finished run in env `main`,
    which env_list leaves out, is not resent every round). Raises requests.RequestException when
    the server is gone (a caller's loop tries again next round)."""
    seen = {} if seen is None else seen
    connection = connection or Connection.from_environment("http://127.0.0.1", port)
    done, began = Restore(), time.monotonic()
    present = set(landing.env_list(connection)) if only_missing else set()
    batches = connection.takes_batches()
    for path, entry in run_registry.journals(port, logdirs).items():
        if live(entry):
            done.live.append(path)
            continue
        size = _size(path)
        if size is None or seen.get(path) == size:   # gone, or nothing new since last time
            continue
        seen[path] = size
        if only_missing and (entry.get("env") or first_env(path)) in present:
            continue
        try:
            models = list(rebuild.runs(path))
        except (OSError, ValueError):
            done.unreadable.append(path)
            continue
        for model, _ in models:
            if _send(connection, rebuild.requests_of(model), batches):
                done.runs += 1
                done.windows += len(model.windows)
            else:
                done.failed.append(path)
    if done.runs:
        landing.note(connection, None, None)   # the index lists the rebuilt envs
    done.seconds = time.monotonic() - began
    return done


def _send(connection, items, batches):
    try:
        if batches:
            return all(status == 200 for status, _ in connection.post_batch(items))
        for endpoint, message in items:
            connection.post(endpoint, message)
        return True
    except ServerRefused:
        return False


def catch_up(port, logdirs, seen):
    """A callback for the foreground server's loop: rebuild runs whose env went missing."""
    def each_round():
        try:
            restore(port, logdirs, only_missing=True, seen=seen)
        except (requests.RequestException, ServerRefused, ValueError):
            pass   # the server is stopping or busy: the next round tries again
    return each_round


def _size(path):
    try:
        return os.path.getsize(path)
    except OSError:
        return None
