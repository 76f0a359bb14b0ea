"""Reading windows back for the integration tests (SummaryWriter, Lightning, transformers)."""

import json

from visdom import Visdom


def window(port, env, win):
    viz = Visdom(port=port, raise_exceptions=True, use_incoming_socket=False)
    return json.loads(viz.get_window_data(win, env=env))


def points(port, env, win):
    """{trace name: {x: y}} of a line window on the server."""
    data = window(port, env, win)["content"]["data"]
    return {t["name"]: dict(zip(t["x"], t["y"])) for t in data}
