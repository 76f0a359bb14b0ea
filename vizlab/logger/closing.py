"""VisdomLogger.close(): the journal first (bounded by the disk), then what the server lacks
(bounded by close_timeout), the run's last status, one closing line, and the window model given
back. Functions of the logger (`self`), kept apart from its calls."""

import atexit
import time

import requests

from vizlab import run_registry
from vizlab import status as status_mod
from vizlab.connection import Connection, ServerRefused
from vizlab.logger import heap, lifecycle
from vizlab.logger.notices import say
from vizlab.logger.summary import closing_line, live_view_note, lost

CLOSE_DOWN_GRACE = 2.0   # seconds close() waits for a server that refuses connections


def close(self):
    """VisdomLogger.close: write the whole journal, then deliver what the server lacks within
    close_timeout; say one line: where to watch, calls accepted, journaled and delivered."""
    if self._closed or lifecycle.close_child(self):
        return
    atexit.unregister(self.close)
    lifecycle.catch_up(self.close_timeout)   # what forked children sent before now
    self._closed = True
    target = self._writer.enqueued
    # The journal first: the network plays no part in it, so this is bounded by the disk.
    self._writer.stop()
    stats = self.stats
    whole = not lost(stats)
    delivered, delivery = self._writer.written >= target, None
    if self._sender is not None:
        # the journal is written: a restarted server may restore it
        run_registry.note(self._sender.connection.url, self.journal_path, self.env, False)
        # A refused connection gets 2 s to come back (a quick restart); a hung server at most
        # close_timeout: the journal has it all for `vizlab replay`.
        delivered = self._sender.wait(target, self.close_timeout,
                                      give_up_down=min(CLOSE_DOWN_GRACE, self.close_timeout))
        self._sender.stop()
        self._writer.notices.mute()   # the sender may still be in a request: it says nothing now
        delivery = _delivery(self, delivered)
        if delivery["behind"] and whole:
            _show_live_view_behind(self, delivery)
    # a server that took it all answers fast; a record that is not whole is said all the same
    if self._landing is not None and (delivered or not whole):
        self._landing.closed(self.close_timeout, "closed" if whole else status_mod.JOURNAL_INCOMPLETE)
    self._final = delivered and self._nothing_unwritten(stats)   # what flush() says from now on
    say(closing_line(self.env, stats, self.journal_path, self.queue_size, self.close_timeout, delivery))
    lifecycle.unregister(self)
    _release_model(self)
    if self._writer.long_queue:   # what the drained queue used goes back to the OS
        heap.trim()


def _release_model(self):
    """Give the window model's points back: the journal and the server hold them now. Its
    objects were made among the queued calls, so while any lives, the memory those calls took
    stays with the process (in pymalloc's arenas). stats keeps what it reads from it."""
    with self._windows_lock:
        self._decimated = self._windows.decimated()
        self._windows.reset()


def _delivery(self, done):
    """What the server holds at close, for the closing line (see summary.closing_line)."""
    with self._windows_lock:
        windows = self._windows.windows
        behind = [] if done else self._windows.changed()
        absent = sum(not windows[name].on_server for name in behind)
        count = len(windows)
    return {"url": self._sender.connection.url, "done": done, "windows": count, "behind": behind,
            "absent": absent, "sent": not done and not behind}


def _show_live_view_behind(self, delivery):
    """The journal is whole but the server is behind: its status pane must not say a plain
    "finished". Shown with one short try (the sender has stopped), not journaled: a replay of
    the journal is whole."""
    tracker = self._tracker()
    if tracker is None or tracker.state != "finished":
        return
    tracker.state, tracker.error = status_mod.LIVE_VIEW_INCOMPLETE, live_view_note(delivery, self.journal_path)
    with self._windows_lock:
        self._windows.apply(tracker.record(time.time()))
        endpoint, message, _ = self._windows.request(status_mod.WIN)
    connection = Connection.from_environment(*self._address)
    connection.timeout = (0.5, 1.0)
    try:
        connection.post(endpoint, message)
    except (requests.RequestException, ServerRefused):   # it shows what it has
        pass
