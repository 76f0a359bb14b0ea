"""Reading windows back for the integration tests (SummaryWriter, Lightning, transformers).

The client authenticates the way the owner's tools do: a private server vizlab started knows
this process's uid; a --login server gets VISDOM_USERNAME/VISDOM_PASSWORD when they are set.
"""

import json
import os

from visdom import Visdom


def client(port):
    login = {k: os.environ[f"VISDOM_{k.upper()}"] for k in ("username", "password")
             if os.environ.get(f"VISDOM_{k.upper()}")}
    return Visdom(port=port, raise_exceptions=True, use_incoming_socket=False, **login)


def window(port, env, win):
    return json.loads(client(port).get_window_data(win, env=env))


def points(port, env, win):
    """{trace name: {x: y}} of a line window on the server."""
    data = window(port, env, win)["content"]["data"]
    return {t["name"]: dict(zip(t["x"], t["y"])) for t in data}
