"""The sender thread: brings the Visdom server up to date with the window model.

It only reads the model (under the model lock, briefly) and posts outside the lock, so a slow,
hung or dead server delays nothing but the live view. All delivery state lives in `Delivery`.
"""

import threading
import time

import requests

from vizlab.connection import NotOwner, ServerRefused
from vizlab.logger.background import Background
from vizlab.logger.counts import Counts

PACE = 20       # a round's requests may take at most 1/PACE of the time ...
MAX_WAIT = 1.0  # ... but no wait between rounds is longer than this (many windows keep up)
SLICE = 1.0     # a round sends for at most this long; the windows left go first next round
BATCH = 200     # windows per request to a server that takes many (vizlab's /vizlab/batch)
# The browser redraws a whole plot for every update (Plotly.react over all its points, about
# 15 ms of the page's CPU even for a small plot), so a window showing many points is updated
# less often: at most every points / REDRAW_RATE seconds, and at least every MAX_PAUSE, which
# bounds how late a point shows (0.75 s: call -> visible p50 0.49 s, p99 1.1 s in
# benchmarks/watching.py). Windows of up to REDRAW_RATE / 4 points go every round (0.25 s).
REDRAW_RATE = 1_000
MAX_PAUSE = 0.75


class Delivery:
    """What the sender knows about the server, in one place, behind its own lock.

    Callers (flush, close) and the sender thread both change it, so every change is a method.
    """

    def __init__(self, verify_every):
        self.lock = threading.Lock()
        self.done = 0                 # calls whose effect is on the server (and verified)
        self.unreachable_since = None
        self.failures = 0             # consecutive rounds the server did not answer
        self.next_try = 0.0           # backoff while it does not answer
        self.next_send = 0.0          # pacing of sends to a busy server
        self.verify_every = verify_every
        self.next_verify = time.monotonic() + verify_every
        self.verify_asked = 0         # checks asked for (flush, reconnect, refused append)
        self.verify_done = 0          # the last ask a completed check covered
        self.waiters = 0              # callers waiting in flush()/close()
        self.refused = {}             # window -> (refusals in a row, retry time): backoff per window

    def add_waiter(self):
        """A caller starts waiting: ask for a check, skip any backoff; returns the ask."""
        with self.lock:
            self.waiters += 1
            self.verify_asked += 1
            self.next_try = 0.0       # a waiting caller should not sit out a long backoff
            return self.verify_asked

    def remove_waiter(self):
        with self.lock:
            self.waiters -= 1

    def ask_check(self):
        with self.lock:
            self.verify_asked += 1

    def check_due(self, now):
        """The ask a check of every window started now covers; 0: only the periodic probe of
        one window is due; None: no check is due."""
        with self.lock:
            if self.verify_asked > self.verify_done:
                return self.verify_asked
            return 0 if now >= self.next_verify else None

    def checked(self, asked, now):
        with self.lock:
            self.verify_done = max(self.verify_done, asked)
            self.next_verify = now + self.verify_every

    def may_send(self, now):
        with self.lock:
            return now >= self.next_try and (now >= self.next_send or self.waiters > 0)

    def paced(self, start, end):
        """A round ran from start to end: when the next may start without a waiting caller."""
        with self.lock:
            self.next_send = start + min(PACE * (end - start), MAX_WAIT)

    def failed_round(self, now):
        """The server did not answer; True the first time in a row (it may come back empty)."""
        with self.lock:
            first = self.unreachable_since is None
            if first:
                self.unreachable_since = now
                self.verify_asked += 1
            self.failures += 1
            backoff = min(5.0, 0.25 * 2 ** min(self.failures, 8))   # no float overflow after 1024
            self.next_try = now + (min(backoff, 0.5) if self.waiters else backoff)
            return first

    def answered(self):
        """The server answered a round; True if it had not been answering."""
        with self.lock:
            was_down = self.unreachable_since is not None
            self.unreachable_since, self.failures = None, 0
            return was_down

    def down_for(self, now):
        """Seconds the server has not answered, or None."""
        with self.lock:
            return None if self.unreachable_since is None else now - self.unreachable_since

    def synced(self, written):
        """Everything is sent: the first `written` calls are on the server, once verified."""
        with self.lock:
            if self.verify_done >= self.verify_asked:
                self.done = max(self.done, written)

    def reached(self, target, ask):
        with self.lock:
            return self.done >= target and self.verify_done >= ask


class Sender(Background):
    def __init__(self, model, model_lock, writer, connection, notices, interval=0.25,
                 verify_every=10.0, clock=time.monotonic, counts=None):
        super().__init__("vizlab-sender")
        self.model, self.model_lock, self.writer = model, model_lock, writer
        self.connection = connection
        self.notices = notices
        self.interval = interval
        self.clock = clock            # a fake one in the unit tests
        self.state = Delivery(verify_every)
        self.counts = counts if counts is not None else Counts()
        self._settled = False
        self._batches = None          # does the server take many windows per request? None: ask
        self._sent_at = {}            # window -> start of the round that last delivered it
        self._stopping = False
        self._wake = threading.Event()
        self._cond = threading.Condition()

    def calls_written(self):
        """The journal thread wrote a batch: send it now (pacing still applies), so a point
        waits for the journal's interval, not for that and the sender's too."""
        self._wake.set()

    # --- called from the logger's thread
    @property
    def delivered_calls(self):
        """Calls whose effect is on the server (verified)."""
        return self.state.done

    def wait(self, target, timeout, give_up_down=None):
        """True once the first `target` calls are on the server (and verified to be there).

        give_up_down: return False early once the server has not answered for this many seconds.
        """
        state, deadline = self.state, time.monotonic() + timeout
        self.writer.wake()   # the journal thread takes the calls now, not at its next interval
        ask = state.add_waiter()
        try:
            while True:
                self._wake.set()
                with self._cond:
                    if self._cond.wait_for(lambda: state.reached(target, ask),
                                           timeout=min(0.5, max(0.0, deadline - time.monotonic()))):
                        return True
                if time.monotonic() >= deadline or not self.is_alive() or self._never(target):
                    return False
                down_for = state.down_for(self.clock())
                if give_up_down is not None and down_for is not None and down_for >= give_up_down:
                    return False
        finally:
            state.remove_waiter()

    def _never(self, target):
        """The journal thread stopped short of `target`: those calls will never be sent."""
        return self.writer.written < target and self.writer.started and not self.writer.is_alive()

    def stop(self):
        """Stop after the current request; a hung request is left to its daemon thread."""
        self._stopping = True
        self._wake.set()

    def halt(self):
        """Send nothing after the current round; takes no lock (a signal handler calls it)."""
        self._stopping = True

    # --- the thread
    def _run(self):
        while not self._stopping:
            self._wake.wait(self.interval)
            self._wake.clear()
            if self._stopping:
                break
            try:
                self._cycle()
            except Exception as err:  # the thread must never die: count, report, go on
                self.counts.send_errors += 1
                self.notices.report(f"sender:{type(err).__name__}:{err}",
                                    f"sender error ({type(err).__name__}: {err}); logging "
                                    "continues, the journal keeps every call")

    def _cycle(self):
        state, now = self.state, self.clock()
        if not state.may_send(now):
            return
        self._settle()
        # A waiting caller wants everything now; otherwise a round ends after SLICE seconds.
        deadline = float("inf") if state.waiters else now + SLICE
        try:
            asked = state.check_due(now)
            if asked is not None:
                self._check_windows(asked)
            lost = self._send_changed(deadline)
            if lost:   # an append was refused: the server lost windows (restarted); rebuild them
                self._check_windows(state.check_due(self.clock()))
                self._send_changed(deadline)
            # Each request costs the server too: pace the rounds (see PACE and MAX_WAIT).
            state.paced(now, self.clock())
        except requests.RequestException as err:
            self._unreachable(err)
            return
        except NotOwner as err:   # another user's server: final, nothing more is sent to it
            self.notices.report("not-owner", f"{err}; the journal keeps every call"
                                + self._journal_hint(), once=True)
            self._stopping = True
            return
        except ServerRefused as err:   # login missing or refused
            self.notices.report(str(err), f"{err}; points are kept and retried")
            self._unreachable(err, warn=False)
            return
        if state.answered():
            self.notices.say(f"Visdom at {self.connection.url} answers again; sending everything pending")
            self.notices.forget("unreachable")
        self._finished()

    def _settle(self):
        """Once the journal thread has ended (close), give decimated windows the form a replay
        of the journal gives them (the appends made them depend on when sends happened)."""
        if self._settled or not self.writer.started or self.writer.is_alive():
            return
        self._settled = True
        with self.model_lock:
            self.model.settle()

    def _finished(self):
        with self.model_lock:
            synced = not self.model.changed()
            written = self.writer.written
        if synced:
            self.state.synced(written)
        with self._cond:
            self._cond.notify_all()

    def _unreachable(self, err, warn=True):
        self.state.failed_round(self.clock())
        self._batches = None          # whatever answers next may be another server: ask again
        if warn:
            self.notices.report("unreachable", f"Visdom at {self.connection.url} is not answering "
                                f"({type(err).__name__}); training continues and every point is "
                                "kept and sent when it answers" + self._journal_hint(), once=True)

    def _journal_hint(self):
        journal = self.writer.journal
        return f" (journal: {journal.path})" if journal is not None else ""

    def _send_changed(self, deadline=float("inf")):
        """Send the changed windows that are due, the longest unsent first, until `deadline` (the
        rest go first next round): BATCH per request where the server takes many, else one.
        True if an append was refused (the server lost the window)."""
        lost, now = False, self.clock()
        with self.model_lock:
            names = [n for n in self.model.changed() if self._due(n, now)]
        if not names:
            return False
        per_request = self._per_request()
        for start in range(0, len(names), per_request):
            if self.clock() >= deadline or self._stopping:   # the logger closed: its close said all
                break
            with self.model_lock:
                chunk = [(n, *self.model.request(n)) for n in names[start:start + per_request]
                         if n in self.model.windows]
            if not chunk:
                continue
            for (name, _, _, ticket), (status, text) in zip(chunk, self._post(chunk)):
                lost = self._book(name, ticket, status, text, now) or lost
        return lost

    def _per_request(self):
        """Windows per request: BATCH where the server takes batches (asked once), else 1."""
        if self._batches is None:
            self._batches = self.connection.takes_batches()
        return BATCH if self._batches else 1

    def _due(self, name, now):
        """Not in a refusal's backoff, and (unless a caller waits) not paced: see REDRAW_RATE."""
        if self.state.refused.get(name, (0, 0.0))[1] > now:
            return False
        if self.state.waiters or name not in self._sent_at:
            return True
        pause = min(MAX_PAUSE, self.model.windows[name].size() / REDRAW_RATE)
        # rounds come every `interval` give or take a few ms: take the round nearest the pause,
        # else a 0.75 s pause would mostly wait for the round after (1 s)
        return now - self._sent_at[name] + self.interval / 2 >= pause

    def _post(self, chunk):
        """[(status, reply text or error)] per window of `chunk` ([(name, endpoint, message,
        ticket)]); if the request itself fails, every window of it is sent whole next time."""
        try:
            if self._batches:
                replies = self.connection.post_batch([(e, message) for _, e, message, _ in chunk])
                return [(status, text if status == 200 else
                         f"{self.connection.url}/{e} answered HTTP {status} (in a batch)")
                        for (status, text), (_, e, _, _) in zip(replies, chunk)]
            (_, endpoint, message, _), = chunk
            try:
                return [(200, self.connection.post(endpoint, message))]
            except ServerRefused as err:
                if err.status == 400 or isinstance(err, NotOwner):
                    raise   # login missing or refused (kept, retried), or final (_cycle says so)
                return [(err.status, str(err))]
        except BaseException:   # _cycle reports it; _unreachable asks about batches again
            with self.model_lock:
                for name, _, _, ticket in chunk:
                    self.model.failed(name, ticket)
            raise

    def _book(self, name, ticket, status, text, round_start):
        """Record one window's answer; True if its append was refused (the window was lost)."""
        with self.model_lock:
            if status == 200:
                self.model.delivered(name, ticket)
            else:
                self.model.failed(name, ticket)
        if status == 200:
            self._sent_at[name] = round_start
            if self.state.refused.pop(name, None):
                self.notices.say(f"window {name!r} is accepted again by {self.connection.url}")
            return False
        if ticket.whole:
            self._refused(name, text)
            return False
        self.state.ask_check()
        return True

    def _refused(self, name, err):
        """The server rejects this window whole: retry it with backoff, the others keep flowing."""
        times, _ = self.state.refused.get(name, (0, 0.0))
        backoff = min(30.0, 0.5 * 2 ** min(times, 8))
        self.state.refused[name] = (times + 1, self.clock() + backoff)
        self.counts.refused += 1
        self.notices.report(f"refused:{name}", f"{err} for window {name!r}; retrying it with "
                            "backoff while the other windows keep flowing (the journal keeps it)")

    def _exist(self, names):
        """Whether the server has each window of `names`: one request, or one each (stock Visdom)."""
        asks = [{"win": name, "eid": self.model.env} for name in names]
        if not self._batches:
            return [self.connection.post("win_exists", ask).strip() == "true" for ask in asks]
        replies = self.connection.post_batch([("win_exists", ask) for ask in asks])
        return [status == 200 and text.strip() == "true" for status, text in replies]

    def _check_windows(self, asked):
        """Ask the server for each window it should have; mark the missing ones to be rebuilt.

        asked=0 (every verify_every seconds): ask for one window only, which finds a restarted
        server at the cost of one request however many windows there are; a missing one asks
        for a check of them all (as a refused append or a flush does)."""
        with self.model_lock:
            names = self.model.on_server()
        names = names if asked else names[:1]
        per_request = self._per_request() if names else 1
        for start in range(0, len(names), per_request):
            chunk = names[start:start + per_request]
            for name, there in zip(chunk, self._exist(chunk)):
                if there:
                    continue
                with self.model_lock:
                    if name in self.model.windows:
                        self.model.lost(name)
                if not asked:
                    self.state.ask_check()
        self.state.checked(asked, self.clock())
