"""`from vizlab.visdom import Visdom`, and `python -m vizlab.visdom script.py [args]`, which runs a
program unchanged with `visdom.Visdom` being vizlab's client (see __main__.py)."""


def __getattr__(name):
    if name == "Visdom":   # imported on first use: visdom imports torch when it is there
        from vizlab.integrations.visdom_client import Visdom
        return Visdom
    raise AttributeError(f"module 'vizlab.visdom' has no attribute {name!r}")
