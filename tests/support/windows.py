"""Reading windows back for the integration tests (SummaryWriter, Lightning, transformers).

The client authenticates the way the owner's tools do: a private server vizlab started knows
this process's uid; a --login server gets VISDOM_USERNAME/VISDOM_PASSWORD when they are set.
"""

import json
import os

from visdom import Visdom

from vizlab.smoothing import SUFFIX


def client(port):
    login = {k: os.environ[f"VISDOM_{k.upper()}"] for k in ("username", "password")
             if os.environ.get(f"VISDOM_{k.upper()}")}
    return Visdom(port=port, raise_exceptions=True, use_incoming_socket=False, **login)


def window(port, env, win):
    return json.loads(client(port).get_window_data(win, env=env))


def raw_traces(data):
    """The logged traces of a line window's data, without their smoothed companions."""
    return [t for t in data if not t.get("name", "").endswith(SUFFIX)]


def points(port, env, win):
    """{trace name: {x: y}} of a line window on the server (its logged traces, without the
    smoothed companions; tests/test_smoothing.py reads those)."""
    data = raw_traces(window(port, env, win)["content"]["data"])
    return {t["name"]: dict(zip(t["x"], t["y"])) for t in data}
