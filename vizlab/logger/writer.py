"""The journal thread: takes the callers' queue, writes the journal, feeds the window model.

It never waits on the network (the sender thread does that), so the journal keeps every call
whatever the server does, and is handed to the OS at least every FLUSH_EVERY seconds: a
process killed with SIGKILL loses at most that last interval. Each record is encoded alone (one
that cannot be is dropped alone, counted) and each batch is one write of whole lines; while the
disk refuses them the model (the live view) still gets everything, and the calls the journal
misses are counted. If the thread ever stops, every later call raises instead of queueing.
"""

import collections
import threading
import time

from vizlab import journal as journal_mod
from vizlab.logger.background import Background
from vizlab.logger.notices import say
from vizlab.journal import calls
from vizlab.logger.records import Converter
from vizlab.status import REFRESH

CLOSED = "VisdomLogger is closed; open a new one to keep logging"

FLUSH_EVERY = 0.5    # seconds; the most a SIGKILL can lose
WAKE_AT = 4096       # queued calls that wake the thread early (a fast loop)
MAX_QUEUED_BYTES = 64 * 2**20   # image grids waiting for the journal thread, at most (bytes)
DRAIN_AT_MOST = 8192   # calls handled at once: the thread's buffers stay small (memory goes back)


class JournalThread(Background):
    def __init__(self, journal, model, model_lock, notices, queue_size, interval=FLUSH_EVERY, counts=None):
        super().__init__("vizlab-journal")
        self.journal = journal              # None: journal=False (the model is still fed)
        self.model, self.model_lock = model, model_lock
        self.notices = notices
        self.converter = Converter(notices.report, counts)
        self.counts = self.converter.counts
        self.queue_size = queue_size
        self.interval = min(interval, FLUSH_EVERY)
        self.queue = collections.deque()
        # guards queue and enqueued (several caller threads); an RLock: a signal handler that
        # must flush lends it to this thread if the interrupted call holds it (logger/signals.py)
        self.lock = threading.RLock()
        self.room = threading.Condition(self.lock)
        self.enqueued = 0                   # calls accepted
        self.long_queue = False             # the queue once held WAKE_AT calls (close trims the heap)
        self.queued_bytes = 0               # image grid bytes in the queue (backpressure too)
        self.written = 0                    # calls taken from the queue and dealt with
        self.journaled = 0                  # calls whose records are in the journal (or the model)
        self.missed = 0                     # calls the disk refused (the live view has them)
        self.incomplete = None              # where the journal first missed calls
        self._disk_full = False
        self.refuse = None                  # why calls are no longer taken (closed, thread died)
        self.died = None                    # the error that stopped the thread, if one did
        self.offset = journal.offset() if journal else 0
        self.waited, self.waits = 0.0, 0    # backpressure: total seconds callers waited
        self.on_written = lambda: None
        self.status = None                  # vizlab.status.Tracker (None: status=False)
        self._done = threading.Condition()
        self._wake = threading.Event()
        self._stopping = False
        self._asked = False                 # a flush() waits: the status pane goes with its calls

    # --- called from the callers' threads
    def put(self, event):
        with self.lock:
            if self.refuse is not None:     # nobody would drain this queue
                raise RuntimeError(self.refuse)
            if len(self.queue) >= self.queue_size:
                self._wait_for_room(lambda: len(self.queue) >= self.queue_size)
            if event[0] == "images":
                self._put_bytes(event[2].nelement())
            self.queue.append(event)
            self.enqueued += 1
            wake = len(self.queue) == WAKE_AT
        if wake:   # outside the lock: a signal handler never finds the call holding it here
            self.long_queue = True
            self._wake.set()

    def _put_bytes(self, size):
        """An image grid waits while MAX_QUEUED_BYTES of others are queued (one alone always fits)."""
        if self.queued_bytes and self.queued_bytes + size > MAX_QUEUED_BYTES:
            self._wait_for_room(lambda: self.queued_bytes and self.queued_bytes + size > MAX_QUEUED_BYTES)
        self.queued_bytes += size

    def _wait_for_room(self, full):
        """Backpressure: the caller outruns the journal, so it waits (the lock is held)."""
        start = time.perf_counter()
        self._wake.set()
        while full() and self.refuse is None:
            self.room.wait(0.1)
        self.waited += time.perf_counter() - start
        self.waits += 1
        if self.refuse is not None:         # the thread stopped while this call waited
            raise RuntimeError(self.refuse)

    def wake(self):
        """Take the queued calls now (someone waits for them), not at the next interval."""
        self._asked = True    # and show the status pane as of now (see _live_status)
        self._wake.set()

    def wait_written(self, target, timeout, wake=True):
        """True once the first `target` calls are in the journal (flushed) and the model; False
        at once if the thread stopped on an error (what it had not written never will be).
        wake=False: wait for the thread's next round (a signal handler must not wake it)."""
        if wake:
            self.wake()
        with self._done:
            self._done.wait_for(lambda: self.written >= target or self.died is not None
                                or not self.is_alive(), timeout)
            return self.written >= target and self.died is None

    def stop(self, timeout=None):
        """Write everything queued, close the journal; the network plays no part in this. A call
        that comes after this raises (under the lock: none can slip in after the last drain)."""
        with self.lock:
            self.refuse = CLOSED
            self._stopping = True
        self._wake.set()
        self.join(timeout)

    # --- the thread
    def _run(self):
        try:
            while True:
                self._wake.wait(self.interval)
                self._wake.clear()
                stopping = self._stopping
                self._drain()
                if stopping and not self.queue:
                    self._status_show(lambda now: (self.status.final(now), True))
                    break
                self._status_show(self.status.tick if self.status is not None else None)
        except BaseException as err:   # a bug in vizlab or the interpreter failing: say so
            self._died(err)
            self._show_final()
            raise
        finally:
            if self.journal is not None:
                self.journal.close()

    def _died(self, err):
        why = (f"vizlab's journal thread stopped ({type(err).__name__}: {err}); this call and "
               "every later one cannot be kept: open a new VisdomLogger")
        with self.lock:
            self.refuse = why
            self.room.notify_all()
        say(f"{why}. The journal holds the calls written before.")
        with self._done:
            self.died = err
            self._done.notify_all()

    def _show_final(self):
        """The thread died: the pane says how the run's record ends ("journal incomplete"), in the
        live view even when the journal cannot take the record."""
        record = self._status_call(self.status.final) if self.status is not None else None
        if record is None:
            return
        try:
            self._write([record])
        except Exception:   # the journal is what failed: the live view still shows it
            pass
        with self.model_lock:
            self.model.apply(record)

    def _drain(self):
        """The calls queued now, DRAIN_AT_MOST at a time."""
        for _ in range(-(-len(self.queue) // DRAIN_AT_MOST)):
            with self.lock:
                if len(self.queue) <= DRAIN_AT_MOST:   # the whole queue: taken as it is
                    events, self.queue = self.queue, collections.deque()
                else:
                    popleft = self.queue.popleft
                    events = [popleft() for _ in range(DRAIN_AT_MOST)]
                if self.queued_bytes:
                    self.queued_bytes -= sum(e[2].nelement() for e in events if e[0] == "images")
                self.room.notify_all()
            if not events:
                return
            # Each expected failure (a value, a record, the disk) is caught inside, per record;
            # an error escaping it is a bug, so the thread stops (_run) rather than go on
            # losing every batch while counting it written.
            self._take_batch(events)

    def _take_batch(self, events):
        try:
            records = self.converter.records(events)
        except Exception as err:   # never die: the calls are counted as errors, logging goes on
            records = []
            self.counts.journal_errors += len(events)
            self.counts.dropped += len(events)
            self.notices.report(f"convert:{type(err).__name__}", f"could not log {len(events)} "
                                f"calls ({type(err).__name__}: {err})")
        if self.status is not None:
            records += self._status_call(lambda now: self.status.observe(records, now)) or []
        records = self._write(records)
        with self.model_lock:
            live = self._status_call(self._live_status) if self.status is not None else None
            if live is not None:   # shown before `written` moves: a flush() then sees it sent
                records.append(live)
            for record in records:
                try:
                    self.model.apply(record)
                except Exception as err:
                    self.counts.journal_errors += 1
                    self.notices.report(f"model:{type(err).__name__}", f"could not show a "
                                        f"{record.get('op')} record ({type(err).__name__}: {err}); "
                                        "the journal keeps it")
            with self._done:
                self.written += len(events)
                self.offset = self.journal.offset() if self.journal is not None else 0
                self._done.notify_all()
        self.on_written()

    # --- the status pane (vizlab.status): the Tracker makes the records, they go the usual way
    def begin_status(self, tracker):
        """Before the thread starts: the pane's first record, first after the start record."""
        self.status = tracker
        self._status_show(lambda now: (tracker.begin(), True))

    def _live_status(self, now):
        """The pane as of this batch, when a flush() waits for it or a second has passed: the
        page redraws it at most once a second however often batches come (every interval)."""
        asked, self._asked = self._asked, False
        return self.status.record(now) if asked or now - self.status.shown >= REFRESH else None

    def _status_show(self, make):
        """Journal (when asked) and show the record make(now) returns, if any."""
        if make is None or self.status is None:
            return
        record, journal = self._status_call(make) or (None, False)
        if record is None:
            return
        try:
            records = self._write([record]) if journal else [record]
            with self.model_lock:
                for record in records:
                    self.model.apply(record)
        except Exception as err:   # the status pane must never stop logging
            self._status_failed(err)

    def _status_call(self, make):
        try:
            return make(time.time())
        except Exception as err:
            self._status_failed(err)
            return None

    def _status_failed(self, err):
        self.notices.report(f"status:{type(err).__name__}", f"the status pane failed "
                            f"({type(err).__name__}: {err}); logging goes on")

    def _write(self, records):
        """Write the records as one batch of whole lines; returns those fit to show (all but the
        few that JSON cannot hold, each dropped alone)."""
        if self.journal is None:
            self.journaled += sum(map(calls, records))
            return records
        kept, lines = [], []
        for record in records:
            try:
                lines.append(journal_mod.encode(record))
            except (TypeError, ValueError, RecursionError) as err:
                self.counts.journal_errors += 1
                self.counts.dropped += calls(record)
                self.notices.report(f"encode:{record['op']}:{type(err).__name__}",
                                    f"could not write a {record['op']} record of window "
                                    f"{record.get('win')!r} ({type(err).__name__}: {err}); that "
                                    "record alone is dropped, all else is kept")
                continue
            kept.append(record)
        done, err = self.journal.append(b"".join(lines))
        self.journaled += sum(map(calls, kept[:done]))
        if err is None:
            if self._disk_full:
                self._disk_full = False
                say(f"the journal {self.journal.path} is written again; it misses {self.missed} "
                    f"calls so far, from {self.incomplete} on (the live view has them)")
        else:
            self._refused(kept[done:], err)
        return kept

    def _refused(self, records, err):
        """The disk took only part of a batch (full, or failing): count, and warn once per spell."""
        self.missed += sum(map(calls, records))
        if self._disk_full:
            return
        self._disk_full = True
        where = _where(records[0]) if records else "its end"
        self.incomplete = self.incomplete or where
        say(f"cannot write the journal {self.journal.path} ({err.strerror or err}): it is "
            f"incomplete from {where} on. Logging goes on to the live view; the journal is "
            "written again when the disk takes it, and the summary at close counts what it misses")


def _where(record):
    x = record["x"][0] if record["op"] == "points" else record.get("x")
    return f"window {record['win']!r} x={x}" if x is not None else f"a {record['op']} record of " \
        f"window {record['win']!r}"
