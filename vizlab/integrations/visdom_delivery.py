"""Behind vizlab.Visdom: the journal thread, the sender thread and what each window holds.

A writing call hands one journal line to `Delivery.put` and returns. The journal thread writes
the lines (the journal comes first), then hands the records to the sender thread, which sends
them in order per window, folding appends queued behind a slow server into one request.

Per window the sender keeps `base` (what the server holds, its appends folded) and `pending`.
Before a window's first pending update of a round it asks `win_exists`, as Visdom's client does
before each append: a window the server lost (restarted empty) is sent again whole, and an
append to a window the server never had goes as the message Visdom would have sent then.
A server that does not answer only delays the round: nothing is dropped, the call never waits.
"""

import collections
import copy
import json
import threading
import time

import requests

from vizlab.connection import ServerRefused
from vizlab.integrations.visdom_messages import ENV, READ, created, dumps, key, kind, merge

LOST = "win does not exist"   # the server's answer to a (non-append) update of a missing window
AUTH = (400, 401, 403)        # a login or a token is missing: keep the request and try again


def post(connection, endpoint, msg, refused):
    """The server's answer; None when it answered with an error (as Visdom's client, which gets
    the error page back, the request is then done: `refused` is told). Raises while it does not
    answer, or asks for a login."""
    try:
        return connection.post(endpoint, msg)
    except ServerRefused as err:
        if err.status in AUTH:
            raise
        refused(endpoint, msg, err)
        return None


def encode(record):
    return (dumps(record) + "\n").encode()


def fold(entries, endpoint, msg):
    """Add one request to a window's list; an update folds into the update before it if it can."""
    if endpoint == "update" and entries and entries[-1][0] == "update":
        merged = merge(entries[-1][1], msg)
        if merged is not None:
            entries[-1] = ("update", merged)
            return
    entries.append((endpoint, msg))


class Window:
    __slots__ = ("base", "pending")

    def __init__(self):
        self.base, self.pending = [], []


class Model:
    """What each window should hold, in the order windows were first written."""

    def __init__(self):
        self.windows = {}
        self.envs = {}            # eid -> the env-creating request, sent again after a restart

    def add(self, endpoint, msg):
        window = self.windows.setdefault(key(msg), Window())
        if endpoint in ("events", "win_data"):   # the window whole: what was queued is moot
            window.pending = [(endpoint, msg)]
        else:
            fold(window.pending, endpoint, msg)

    def delivered(self, name):
        window = self.windows[name]
        endpoint, msg = window.pending.pop(0)
        if endpoint in ("events", "win_data"):
            window.base = [(endpoint, msg)]
        elif endpoint == "close":
            window.base = []
        else:
            fold(window.base, endpoint, msg)
        if not window.base and not window.pending:
            del self.windows[name]

    def lost(self, name):
        """The server lacks the window: send it again whole; an append to a window the server
        never had goes as the message Visdom sends for an append to a missing window."""
        window = self.windows[name]
        window.pending, window.base = window.base + window.pending, []
        if window.pending and window.pending[0][0] == "update":
            window.pending[0] = created(window.pending[0][1]) or window.pending[0]

    def unknown(self, name):
        """Visdom's client asks `win_exists` with the id as given and the server compares it with
        its string ids, so an integer id never exists: each append goes as a new window."""
        window = self.windows[name]
        window.pending = [created(m) or (e, m) if e == "update" else (e, m) for e, m in window.pending]

    def env_request(self, endpoint, msg):
        """An env-wide request reached the server: what it did to the windows."""
        eid = msg.get("eid") or "main"
        if endpoint.startswith("env/"):
            self.envs[eid] = (endpoint, msg)
        elif endpoint in ("close", "delete_env", "win_data"):
            for name in [n for n in self.windows if n[0] == eid]:
                del self.windows[name]
            if endpoint == "delete_env":
                self.envs.pop(eid, None)
        elif endpoint == "fork_env":
            for (env, win), window in list(self.windows.items()):
                if env == msg.get("prev_eid"):
                    copied = self.windows.setdefault((eid, win), Window())
                    copied.base = [(e, dict(copy.deepcopy(m), eid=eid)) for e, m in window.base]


class Delivery:
    """The two threads and what the caller's thread may ask of them (put, wait, read)."""

    def __init__(self, connection, journal=None, interval=0.05, verify_every=10.0, notices=None):
        self.connection, self.journal = connection, journal
        self.interval, self.verify_every = interval, verify_every
        self.notices = notices or (lambda text: None)
        self.model = Model()
        self.lines = collections.deque()      # from the callers; only the journal thread pops
        self.records = collections.deque()    # journaled, for the sender
        self.backlog = collections.deque()    # taken by the sender, not yet applied
        self.lock = threading.Condition()
        self.taken = 0            # lines the journal thread took (under lock)
        self.received = 0         # records the sender took
        self.done = 0             # records whose effect is on the server
        self.asked = self.checked = 0          # whole checks asked (flush) and done
        self.down_since = None
        self.failures = self.refusals = 0
        self.next_try = self.next_verify = 0.0
        self.stopping = self.journal_failed = False
        self.journal_wake, self.sender_wake = threading.Event(), threading.Event()
        self.threads = [threading.Thread(target=self._journal_loop, name="vizlab-visdom-journal",
                                         daemon=True),
                        threading.Thread(target=self._sender_loop, name="vizlab-visdom-sender",
                                         daemon=True)]
        for thread in self.threads:
            thread.start()

    # --- the caller's side
    def put(self, item):
        """One request: its journal line (bytes), or the record itself (a dict nothing else holds)."""
        self.lines.append(item)

    def wait(self, timeout, check=True, give_up_down=None):
        """True once every call put before is on the server (check=True: every window verified
        there). Gives up after `timeout`, or once the server has not answered for give_up_down s."""
        deadline = time.monotonic() + timeout
        with self.lock:
            target = self.taken + len(self.lines)
            self.asked += check
            ask = self.asked if check else 0
            self.next_try = 0.0
        self.journal_wake.set()
        with self.lock:
            while not (self.done >= target and self.checked >= ask):
                left = deadline - time.monotonic()
                down = self.down_since is not None and time.monotonic() - self.down_since
                if left <= 0 or (give_up_down is not None and down and down >= give_up_down):
                    return False
                self.sender_wake.set()
                self.journal_wake.set()
                self.lock.wait(min(left, 0.1))
        return True

    def pending_calls(self):
        with self.lock:
            return self.taken + len(self.lines) - self.done

    def stop(self, timeout=5.0):
        """End both threads; the journal thread first writes every line put so far."""
        self.stopping = True
        self.journal_wake.set()
        self.sender_wake.set()
        self.threads[0].join(timeout)

    # --- the journal thread
    def _journal_loop(self):
        while True:
            self.journal_wake.wait(self.interval)
            self.journal_wake.clear()
            with self.lock:   # counted as taken at once: wait() targets what was put before it
                batch = [self.lines.popleft() for _ in range(len(self.lines))]
                self.taken += len(batch)
            if batch:
                self._write([item if isinstance(item, bytes) else encode(item) for item in batch])
                records = [item if isinstance(item, dict) else json.loads(item) for item in batch]
                with self.lock:
                    self.records.extend(records)
                self.sender_wake.set()
            elif self.stopping:
                return

    def _write(self, batch):
        if self.journal is None:
            return
        written, err = self.journal.append(b"".join(batch))
        if err is not None and not self.journal_failed:
            self.journal_failed = True   # said once: a full disk would otherwise say it per batch
            self.notices(f"vizlab.Visdom: cannot write the journal {self.journal.path} ({err}); "
                         "calls still go to the server")

    # --- the sender thread
    def _sender_loop(self):
        while not (self.stopping and not self.records and not self.backlog):
            self.sender_wake.wait(self.interval * 2)
            self.sender_wake.clear()
            if time.monotonic() < self.next_try:
                continue
            try:
                self._round()
            except (requests.RequestException, ServerRefused) as err:
                self._failed(err)
            except Exception as err:   # never die: say it, keep everything, try again
                self.notices(f"vizlab.Visdom: sender error ({type(err).__name__}: {err}); "
                             "calls are kept in the journal and retried")
                self._failed(err)
            if self.stopping and self.down_since is not None:
                return

    def _round(self):
        with self.lock:
            taken = list(self.records)
            self.records.clear()
            self.received += len(taken)
            received, asked = self.received, self.asked
        self.backlog.extend(taken)
        now = time.monotonic()
        recovered = self.down_since is not None
        if recovered or asked > self.checked or now >= self.next_verify:
            self._verify(whole=recovered or asked > self.checked)
        while self.backlog:
            record = self.backlog[0]
            apply(self.connection, self.model, record["endpoint"], record["msg"], self._refused)
            self.backlog.popleft()
        deliver(self.connection, self.model, self._refused)
        if recovered:
            self.notices(f"vizlab.Visdom: {self.connection.url} answers again; its windows are "
                         "up to date")
        with self.lock:
            self.down_since, self.failures = None, 0
            self.done = max(self.done, received)
            self.checked = max(self.checked, asked)
            self.lock.notify_all()

    def _refused(self, endpoint, msg, err):
        """The server failed one request (Visdom's client would have got its error page)."""
        self.refusals += 1
        if self.refusals <= 3 or self.refusals % 1000 == 0:
            self.notices(f"vizlab.Visdom: {err} for window {msg.get('win')!r} (env "
                         f"{msg.get('eid')!r}); as with Visdom's client, that request is dropped "
                         f"({self.refusals} so far; the journal keeps it)")

    def _failed(self, err):
        now = time.monotonic()
        with self.lock:
            if self.down_since is None:
                self.down_since = now
                self.notices(f"vizlab.Visdom: {self.connection.url} is not answering "
                             f"({type(err).__name__}); calls return at once and are kept"
                             + (f" (journal: {self.journal.path})" if self.journal else ""))
            self.failures += 1
            self.next_try = now + min(2.0, 0.1 * 2 ** min(self.failures, 5))
            self.lock.notify_all()

    def _verify(self, whole):
        """Ask for every window the server should hold (whole) or for the first only; send the
        missing ones again. One missing window makes the check whole: the server restarted."""
        names = [n for n, w in self.model.windows.items() if w.base]
        missing = [n for n in (names if whole else names[:1]) if not exists(self.connection, n)]
        if missing and not whole:
            return self._verify(whole=True)
        if missing:   # envs first: an env with no window left would otherwise stay lost
            for endpoint, msg in self.model.envs.values():
                post(self.connection, endpoint, msg, self._refused)
        for name in missing:
            self.model.lost(name)
        self.next_verify = time.monotonic() + self.verify_every


def exists(connection, name):
    eid, win = name
    return connection.post("win_exists", {"win": str(win), "eid": eid}).strip() == "true"


def ignore(endpoint, msg, err):
    pass


def apply(connection, model, endpoint, msg, refused=ignore):
    """One journaled request: an env-wide one is sent now, after every window's pending ones
    (it may close or copy them); a window's goes to the model, to be sent by deliver()."""
    if kind(endpoint, msg) == ENV:
        deliver(connection, model, refused)
        post(connection, endpoint, msg, refused)
        model.env_request(endpoint, msg)
    elif kind(endpoint, msg) != READ:
        model.add(endpoint, msg)


def deliver(connection, model, refused=ignore):
    """Send every window's pending requests, in order per window, windows in their first order."""
    for name in [n for n, w in model.windows.items() if w.pending]:
        window = model.windows[name]
        if not isinstance(name[1], str):
            model.unknown(name)
        elif window.pending[0][0] == "update" and not exists(connection, name):
            model.lost(name)
        while name in model.windows and window.pending:
            endpoint, msg = window.pending[0]
            answer = post(connection, endpoint, msg, refused) or ""
            if endpoint == "update" and answer.strip() == LOST and window.base:
                model.lost(name)   # the server restarted between the check and the update
                continue
            model.delivered(name)


def replay(records, connection):
    """Send raw-client journal records ({"endpoint", "msg"}) to a server as the live sender
    would; returns the number of windows sent."""
    model = Model()
    for record in records:
        apply(connection, model, record["endpoint"], record["msg"])
    windows = len(model.windows)
    deliver(connection, model)
    return windows
