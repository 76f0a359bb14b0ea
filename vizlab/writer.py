"""The journal thread: takes the callers' queue, writes the journal, feeds the window model.

It never waits on the network (the sender thread does that), so the journal keeps every call
whatever the server does, and is flushed to the OS at least every FLUSH_EVERY seconds: a
process killed with SIGKILL loses at most that last interval.
"""

import collections
import threading
import time

from vizlab.records import Converter

FLUSH_EVERY = 0.5    # seconds; the most a SIGKILL can lose
WAKE_AT = 4096       # queued calls that wake the thread early (a fast loop)
MAX_QUEUED_BYTES = 64 * 2**20   # image grids waiting for the journal thread, at most (bytes)


class JournalThread(threading.Thread):
    def __init__(self, journal, model, model_lock, notices, queue_size, interval=FLUSH_EVERY):
        super().__init__(name="vizlab-journal", daemon=True)
        self.journal = journal              # None: journal=False (the model is still fed)
        self.model, self.model_lock = model, model_lock
        self.notices = notices
        self.converter = Converter(notices.report)
        self.queue_size = queue_size
        self.interval = min(interval, FLUSH_EVERY)
        self.queue = collections.deque()
        # guards queue and enqueued (several caller threads); an RLock, so that a SIGTERM handler
        # can lend it to this thread when the signal interrupted a call holding it (lifecycle)
        self.lock = threading.RLock()
        self.room = threading.Condition(self.lock)
        self.enqueued = 0                   # calls accepted
        self.queued_bytes = 0               # image grid bytes in the queue (backpressure too)
        self.written = 0                    # calls in the journal, flushed, and in the model
        self.offset = journal.offset() if journal else 0
        self.waited, self.waits = 0.0, 0    # backpressure: total seconds callers waited
        self.on_written = lambda: None
        self._done = threading.Condition()
        self._wake = threading.Event()
        self._stopping = False

    # --- called from the callers' threads
    def put(self, event):
        with self.lock:
            if len(self.queue) >= self.queue_size:
                self._wait_for_room(lambda: len(self.queue) >= self.queue_size)
            if event[0] == "images":
                self._put_bytes(event[2].nelement())
            self.queue.append(event)
            self.enqueued += 1
            if len(self.queue) == WAKE_AT:
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
        while full() and self.is_alive():
            self.room.wait(0.1)
        self.waited += time.perf_counter() - start
        self.waits += 1

    def wake(self):
        """Take the queued calls now (someone waits for them), not at the next interval."""
        self._wake.set()

    def wait_written(self, target, timeout):
        """True once the first `target` calls are in the journal (flushed) and the model."""
        self.wake()
        with self._done:
            return self._done.wait_for(lambda: self.written >= target or not self.is_alive(),
                                       timeout) and self.written >= target

    def stop(self, timeout=None):
        """Write everything queued, close the journal; the network plays no part in this."""
        self._stopping = True
        self._wake.set()
        self.join(timeout)

    # --- the thread
    def run(self):
        while True:
            self._wake.wait(self.interval)
            self._wake.clear()
            stopping = self._stopping
            self._drain()
            if stopping and not self.queue:
                break
        if self.journal is not None:
            self.journal.close()

    def _drain(self):
        with self.lock:
            events = list(self.queue)
            self.queue.clear()
            self.queued_bytes = 0
            self.room.notify_all()
        if not events:
            return
        try:
            records = self.converter.records(events)
        except Exception as err:   # never die: the calls are counted as errors, logging goes on
            records = []
            self.converter.counts["errors"] += len(events)
            self.notices.report(f"convert:{type(err).__name__}", f"could not log {len(events)} "
                                f"calls ({type(err).__name__}: {err})")
        offset = self._write(records)
        with self.model_lock:
            for record in records:
                try:
                    self.model.apply(record)
                except Exception as err:
                    self.converter.counts["errors"] += 1
                    self.notices.report(f"model:{type(err).__name__}", f"could not show a "
                                        f"{record.get('op')} record ({type(err).__name__}: {err}); "
                                        "the journal keeps it")
            with self._done:
                self.written += len(events)
                self.offset = offset
                self._done.notify_all()
        self.on_written()

    def _write(self, records):
        if self.journal is None:
            return 0
        try:
            for record in records:
                self.journal.write(record)
            self.journal.flush()
            return self.journal.offset()
        except (OSError, ValueError) as err:   # disk full: still plot it, say so
            self.converter.counts["errors"] += 1
            self.notices.report(f"journal:{err}", f"could not write the journal {self.journal.path} ({err})")
            return self.offset
