"""The sender thread: brings the Visdom server up to date with the window model.

It only reads the model (under the model lock, briefly) and posts outside the lock, so a slow,
hung or dead server delays nothing but the live view. All delivery state lives in `Delivery`.
"""

import threading
import time

import requests

from vizlab.connection import ServerRefused
from vizlab.notices import say

PACE = 20   # wait 20x as long as the last round of requests took before sending again


class Delivery:
    """What the sender knows about the server, in one place."""

    def __init__(self, verify_every):
        self.done = 0                 # calls whose effect is on the server (and verified)
        self.unreachable_since = None
        self.failures = 0             # consecutive rounds the server did not answer
        self.next_try = 0.0           # backoff while it does not answer
        self.next_send = 0.0          # pacing of sends to a busy server
        self.verify_every = verify_every
        self.next_verify = time.monotonic() + verify_every
        self.verify_asked = 0         # checks asked for (flush, reconnect, refused append)
        self.verify_done = 0          # the last ask a completed check covered
        self.refused = {}             # window -> (refusals in a row, retry time): backoff per window


class Sender(threading.Thread):
    def __init__(self, model, model_lock, writer, connection, notices, interval=0.5,
                 verify_every=10.0):
        super().__init__(name="vizlab-sender", daemon=True)
        self.model, self.model_lock, self.writer = model, model_lock, writer
        self.connection = connection
        self.notices = notices
        self.interval = interval
        self.state = Delivery(verify_every)
        self.counts = {"errors": 0, "refused": 0}
        self._waiters = 0
        self._stopping = False
        self._wake = threading.Event()
        self._cond = threading.Condition()
        writer.on_written = self._written

    def _written(self):
        if self._waiters:
            self._wake.set()

    # --- called from the logger's thread
    def wait(self, target, timeout, give_up_down=None):
        """True once the first `target` calls are on the server (and verified to be there).

        give_up_down: return False early once the server has not answered for this many seconds.
        """
        state, deadline = self.state, time.monotonic() + timeout
        self.writer.wake()   # the journal thread takes the calls now, not at its next interval
        with self._cond:
            self._waiters += 1
            state.verify_asked += 1
            ask = state.verify_asked
            state.next_try = 0.0      # a waiting caller should not sit out a long backoff
        try:
            while True:
                self._wake.set()
                with self._cond:
                    if self._cond.wait_for(lambda: state.done >= target and state.verify_done >= ask,
                                           timeout=min(0.5, max(0.0, deadline - time.monotonic()))):
                        return True
                if time.monotonic() >= deadline or not self.is_alive():
                    return False
                down_since = state.unreachable_since
                if give_up_down is not None and down_since is not None and \
                        time.monotonic() - down_since >= give_up_down:
                    return False
        finally:
            with self._cond:
                self._waiters -= 1

    def stop(self):
        """Stop after the current request; a hung request is left to its daemon thread."""
        self._stopping = True
        self._wake.set()

    # --- the thread
    def run(self):
        while not self._stopping:
            self._wake.wait(self.interval)
            self._wake.clear()
            try:
                self._cycle()
            except Exception as err:  # the thread must never die: count, report, go on
                self.counts["errors"] += 1
                self.notices.report(f"sender:{type(err).__name__}:{err}",
                                    f"sender error ({type(err).__name__}: {err}); logging "
                                    "continues, the journal keeps every call")

    def _cycle(self):
        state, now = self.state, time.monotonic()
        if now < state.next_try or (now < state.next_send and not self._waiters):
            return
        try:
            if state.verify_asked > state.verify_done or now >= state.next_verify:
                self._check_windows()
            lost = self._send_changed()
            if lost:   # an append was refused: the server lost windows (restarted); rebuild them
                self._check_windows()
                self._send_changed()
            # Visdom's append gets slower as a plot grows (it copies and diffs the whole pane):
            # pace the sends so the server uses at most ~1/PACE of a core beside the training.
            state.next_send = now + PACE * (time.monotonic() - now)
        except requests.RequestException as err:
            self._unreachable(err)
            return
        except ServerRefused as err:   # login missing or refused
            self.notices.report(str(err), f"{err}; points are kept and retried")
            self._unreachable(err, warn=False)
            return
        if state.unreachable_since is not None:
            say(f"Visdom at {self.connection.url} answers again; sending everything pending")
            state.unreachable_since = None
            self.notices.forget("unreachable")
        state.failures = 0
        self._finished()

    def _finished(self):
        with self.model_lock:
            synced = not self.model.changed()
            written = self.writer.written
        with self._cond:
            if synced and self.state.verify_done >= self.state.verify_asked:
                self.state.done = max(self.state.done, written)
            self._cond.notify_all()

    def _unreachable(self, err, warn=True):
        state = self.state
        if state.unreachable_since is None:
            state.unreachable_since = time.monotonic()
            state.verify_asked += 1  # when it answers again it may be a fresh, empty server
        if warn:
            self.notices.report("unreachable", f"Visdom at {self.connection.url} is not answering "
                                f"({type(err).__name__}); training continues and every point is "
                                "kept and sent when it answers" + self._journal_hint(), once=True)
        state.failures += 1
        backoff = min(5.0, 0.25 * 2 ** state.failures)
        state.next_try = time.monotonic() + (min(backoff, 0.5) if self._waiters else backoff)

    def _journal_hint(self):
        journal = self.writer.journal
        return f" (journal: {journal.path})" if journal is not None else ""

    def _send_changed(self):
        """One request per changed window; True if an append was refused (window lost)."""
        lost, refused, now = False, self.state.refused, time.monotonic()
        with self.model_lock:
            names = [n for n in self.model.changed() if refused.get(n, (0, 0.0))[1] <= now]
        for name in names:
            with self.model_lock:
                if name not in self.model.windows:
                    continue
                endpoint, message, ticket = self.model.request(name)
            try:
                self.connection.post(endpoint, message)
            except ServerRefused as err:
                with self.model_lock:
                    self.model.failed(name, ticket)
                if err.status == 400:
                    raise  # login missing or refused: keep everything and retry later
                if ticket[3]:
                    self._refused(name, err)
                else:
                    lost = True   # an append refused: the server no longer has the window
                    self.state.verify_asked += 1
                continue
            except BaseException:
                with self.model_lock:
                    self.model.failed(name, ticket)
                raise
            with self.model_lock:
                self.model.delivered(name, ticket)
            if refused.pop(name, None):
                say(f"window {name!r} is accepted again by {self.connection.url}")
        return lost

    def _refused(self, name, err):
        """The server rejects this window whole: retry it with backoff, the others keep flowing."""
        times, _ = self.state.refused.get(name, (0, 0.0))
        backoff = min(30.0, 0.5 * 2 ** times)
        self.state.refused[name] = (times + 1, time.monotonic() + backoff)
        self.counts["refused"] += 1
        self.notices.report(f"refused:{name}", f"{err} for window {name!r}; retrying it with "
                            "backoff while the other windows keep flowing (the journal keeps it)")

    def _check_windows(self):
        """Ask the server for each window it should have; mark the missing ones to be rebuilt."""
        state = self.state
        asked = state.verify_asked
        with self.model_lock:
            names = [n for n, w in self.model.windows.items() if w.on_server]
        for name in names:
            reply = self.connection.post("win_exists", {"win": name, "eid": self.model.env})
            if reply.strip() != "true":
                with self.model_lock:
                    if name in self.model.windows:
                        self.model.lost(name)
        state.verify_done = asked
        state.next_verify = time.monotonic() + state.verify_every
