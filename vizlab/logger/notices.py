"""The logger's messages to the user: one line on stderr each, repeats rate-limited."""

import sys
import threading
import time

REPEAT_AFTER = 30.0   # seconds before the same problem is reported again


def say(message):
    print(f"vizlab: {message}", file=sys.stderr, flush=True)


class Notices:
    """Every distinct problem is said at once; the same one again at most every REPEAT_AFTER s."""

    def __init__(self):
        self._last = {}
        self._lock = threading.Lock()   # the journal and sender threads both report
        self.muted = False              # the logger closed: its threads say nothing more

    def mute(self):
        self.muted = True

    def say(self, message):
        """say(), unless muted: for threads that may outlive their logger's close()."""
        if not self.muted:
            say(message)

    def report(self, key, message, once=False):
        if self.muted:
            return
        now = time.monotonic()
        with self._lock:
            last = self._last.get(key)
            if last is not None and (once or now - last < REPEAT_AFTER):
                return
            self._last[key] = now
        say(message)

    def forget(self, key):
        with self._lock:
            self._last.pop(key, None)
