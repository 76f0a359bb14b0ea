"""The runs logged to each local server: ~/.vizlab/runs/PORT.jsonl, one line per logger opening or
closing a journal, so `vizlab serve` (vizlab.server.restore) can rebuild their windows after a restart.

A line is {"journal": absolute path, "env": ..., "pid": ..., "time": ..., "open": bool}; the
last line of a journal says whether its logger is still open (a live logger resends its own
windows to a restarted server, so a restore leaves it alone). Appended with one os.write
(O_APPEND: lines of concurrent loggers never interleave); never raises: a run goes on without it.
"""

import glob
import json
import os
import time

REGISTRY_DIR = "~/.vizlab/runs"
LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1", "[::1]")


def path(port):
    return os.path.join(os.path.expanduser(REGISTRY_DIR), f"{port}.jsonl")


def port_of(url):
    """The port of a local server's URL (http://127.0.0.1:8097), else None (a remote server's
    journals are not this machine's to restore)."""
    host, _, port = url.split("://", 1)[-1].rpartition(":")
    return int(port) if host in LOCAL_HOSTS and port.isdigit() else None


def note(url, journal, env, open_):
    """Record that a logger opened (open_=True) or closed its journal for the server at `url`."""
    port = port_of(url)
    if port is None or not journal:
        return
    line = json.dumps({"journal": os.path.abspath(journal), "env": env, "pid": os.getpid(),
                       "time": time.time(), "open": open_}) + "\n"
    try:
        os.makedirs(os.path.dirname(path(port)), mode=0o700, exist_ok=True)
        fd = os.open(path(port), os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            os.write(fd, line.encode())
        finally:
            os.close(fd)
    except OSError:
        pass


def entries(port):
    """{journal path: its last line} of the runs logged to the server on `port`, oldest first."""
    found = {}
    try:
        with open(path(port), "rb") as f:
            for raw in f:
                try:
                    entry = json.loads(raw)
                except ValueError:
                    continue   # a torn line (a logger killed mid-write): the next one counts
                if isinstance(entry, dict) and isinstance(entry.get("journal"), str):
                    found.pop(entry["journal"], None)
                    found[entry["journal"]] = entry
    except OSError:
        return {}
    return found


def journals(port, logdirs=()):
    """{journal path: its registry entry} of every run logged to the server on `port`, and of
    every *.jsonl under the `logdirs` (searched recursively, like TensorBoard's --logdir), oldest first."""
    found = entries(port)
    for folder in logdirs:
        for path in glob.glob(os.path.join(os.path.abspath(os.path.expanduser(folder)), "**", "*.jsonl"),
                              recursive=True):
            found.setdefault(path, {"journal": path, "open": False})
    return dict(sorted(found.items(), key=lambda item: _mtime(item[0])))


def _mtime(path):
    try:
        return os.path.getmtime(path)
    except OSError:
        return 0.0
