"""A daemon thread that runs one method, held rather than inherited.

The logger's threads used to subclass threading.Thread, and a method of theirs named `_handle`
was hidden on Python 3.13 by an attribute of Thread's own: every call was lost. Holding a
Thread (composing `threading.Thread(target=...)`) means no name of ours can ever meet one of
the interpreter's, on any Python.
"""

import threading


class Background:
    """Subclasses define `_run`; start/join/is_alive/started are the Thread's, nothing else is."""

    def __init__(self, name):
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self):
        self._thread.start()

    def join(self, timeout=None):
        self._thread.join(timeout)

    def is_alive(self):
        return self._thread.is_alive()

    @property
    def started(self):
        return self._thread.ident is not None

    def _run(self):
        raise NotImplementedError
