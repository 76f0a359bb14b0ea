"""Reading windows back from a real server, for every test that checks what arrived. Each
reader takes a port or a Visdom client (the `viz` fixture).

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


def _viz(source):
    return source if isinstance(source, Visdom) else client(source)


def window(source, env, win):
    """One window as the server holds it (`get_window_data`)."""
    return json.loads(_viz(source).get_window_data(win, env=env))


def traces(source, env, win):
    """{trace name: Plotly trace} of a line window (smoothed companions included)."""
    return {t["name"]: t for t in window(source, env, win)["content"]["data"]}


def page(source, env):
    """Every window of env, in the order the page lays them out (the server's creation order)."""
    data = json.loads(_viz(source).get_window_data(None, env=env))
    return dict(sorted(data.items(), key=lambda item: item[1]["i"]))


def raw_traces(data):
    """The logged traces of a line window's data, without their smoothed companions."""
    return [t for t in data if not t.get("name", "").endswith(SUFFIX)]


def points(port, env, win):
    """{trace name: {x: y}} of a line window on the server (its logged traces, without the
    smoothed companions; tests/test_smoothing.py reads those)."""
    data = raw_traces(window(port, env, win)["content"]["data"])
    return {t["name"]: dict(zip(t["x"], t["y"])) for t in data}
