"""VisdomLogger: the one class runners use to stream to Visdom.

PLACEHOLDER: a synchronous implementation of the public API so runners can be
written against it; the non-blocking, journaled implementation replaces it.
"""

import os

import numpy as np


class VisdomLogger:
    def __init__(self, env="main", server="http://127.0.0.1", port=8097, journal=None,
                 send=True, **kwargs):
        from visdom import Visdom

        self.env = env
        self.viz = Visdom(server=server, port=port, env=env, raise_exceptions=False,
                          use_incoming_socket=False) if send else None

    def scalar(self, win, x, y, trace="value", **opts):
        self.scalars(win, x, {trace: y}, **opts)

    def scalars(self, win, x, values, **opts):
        if self.viz is None:
            return
        for name, y in values.items():
            y = float(y)
            self.viz.line(X=[float(x)], Y=[y], win=win, name=name, update="append",
                          opts=dict(title=win, showlegend=True, **opts))

    def line(self, win, x, ys, **opts):
        """Replace window `win` with whole curves: ys maps trace name -> sequence."""
        if self.viz is None:
            return
        names = list(ys)
        Y = np.stack([np.asarray(ys[n], dtype=float) for n in names], axis=1)
        X = np.repeat(np.asarray(x, dtype=float)[:, None], len(names), axis=1)
        self.viz.line(X=X, Y=Y, win=win, opts=dict(title=win, legend=names, **opts))

    def images(self, win, images, labels=None, preds=None, nrow=8, title=None, **opts):
        if self.viz is None:
            return
        self.viz.images(np.asarray(images), win=win, nrow=nrow, opts=dict(title=title or win))

    def text(self, win, html, **opts):
        if self.viz is None:
            return
        self.viz.text(html, win=win, opts=dict(title=win, **opts))

    def flush(self, timeout=10):
        return True

    def close(self):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
