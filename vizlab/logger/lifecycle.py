"""What an open VisdomLogger does when its process forks; the registry of open loggers
(vizlab.logger.signals: what it does on SIGTERM/SIGHUP/SIGINT).

Fork. Chosen design: forwarding to the parent. Before each fork a private socket pair is made
(os.register_at_fork); in the child every open logger becomes a forwarder that sends each call,
whole and synchronously, to the parent, where a reader thread puts it in that logger's queue. So
one journal and one window model hold every process's points, the live windows are the same
windows, and the child needs no thread and no atexit (multiprocessing and DataLoader workers end
through os._exit): a call that returned is in the kernel's socket buffer, which the parent reads
even after the child is gone. The alternative, a sibling journal and sender per child, would
need every child's journal merged for replay and would have the parent's whole re-sends of a
window overwrite what the children sent. Calls in a child of a forked child are refused with one
warning at the first call (relaying them would depend on the middle process's thread, which
os._exit ends). flush() in a child returns True once the parent holds its calls; the parent's
flush() and close() first read everything the children sent before them.
"""

import os
import pickle
import selectors
import socket
import struct
import threading

from vizlab.logger import signals
from vizlab.logger.background import Background
from vizlab.logger.notices import say

NOT_SENDABLE = ("a VisdomLogger cannot be pickled to another process (spawn or forkserver start "
                "methods, or a task argument): with the fork start method a child uses the logger it "
                "inherits (a global, or the dataset of DataLoader workers); elsewhere open a logger "
                "in that process")
HEADER = struct.Struct("!I")
SYNC = "sync"

_loggers = {}             # id -> open logger of this process
_lock = threading.RLock()
_next_id = [1]
_fork = threading.local()  # the socket pair of a fork in progress (per forking thread)
_hooks_installed = [False]


def register(log):
    """An open logger: close it on SIGTERM/SIGHUP, forward its calls from forked children."""
    with _lock:
        log._lifecycle_id = _next_id[0]
        _next_id[0] += 1
        _loggers[log._lifecycle_id] = log
    signals.install()
    if not _hooks_installed[0]:
        _hooks_installed[0] = True
        os.register_at_fork(before=_before_fork, after_in_parent=_after_fork_parent,
                            after_in_child=_after_fork_child)


def unregister(log):
    with _lock:
        _loggers.pop(getattr(log, "_lifecycle_id", None), None)


def open_loggers():
    with _lock:
        return list(_loggers.values())


def open_unlocked():
    """open_loggers() without the lock, for a signal handler (one C call: whole under the GIL)."""
    return list(_loggers.values())


# --- fork: the parent's side

class Reader(Background):
    """The parent's thread that reads forked children's calls and queues them."""

    def __init__(self):
        super().__init__("vizlab-forks")
        self.selector = selectors.DefaultSelector()
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self.selector.register(self._wake_r, selectors.EVENT_READ)
        self.buffers = {}                 # child socket -> bytes received, not yet a whole message
        self.late = 0                     # calls that came after their logger closed
        self._added = []
        self._cond = threading.Condition()
        self._asked = self._done = 0      # catch-up requests, and the last one served

    def add(self, sock):
        sock.setblocking(False)
        with self._cond:
            self._added.append(sock)
        self._wake_w.send(b"x")

    def catch_up(self, timeout):
        """True once every call the children sent before now is in its logger's queue."""
        with self._cond:
            self._asked += 1
            ask = self._asked
        self._wake_w.send(b"x")
        with self._cond:
            return self._cond.wait_for(lambda: self._done >= ask or not self.is_alive(), timeout)

    def _run(self):
        while True:
            try:
                self._round()
            except Exception as err:   # never die: the children's calls keep coming
                say(f"reading forked processes' calls failed ({type(err).__name__}: {err})")

    def _round(self):
        with self._cond:
            ask, added, self._added = self._asked, self._added, []
        for sock in added:
            self.buffers[sock] = b""
            self.selector.register(sock, selectors.EVENT_READ)
        for key, _ in self.selector.select(None if ask == self._done else 0):
            if key.fileobj is self._wake_r:
                try:
                    self._wake_r.recv(4096)
                except BlockingIOError:
                    pass
            else:
                self._read(key.fileobj)
        if ask != self._done:   # every socket was read dry after the ask: all it covers is queued
            with self._cond:
                self._done = ask
                self._cond.notify_all()

    def _read(self, sock):
        while True:
            try:
                chunk = sock.recv(1 << 20)
            except BlockingIOError:
                return
            except OSError:
                chunk = b""
            if not chunk:   # the child is gone; whatever it sent was read above
                self.buffers.pop(sock, None)
                self.selector.unregister(sock)
                sock.close()
                return
            self.buffers[sock] = self._messages(sock, self.buffers[sock] + chunk)

    def _messages(self, sock, data):
        """Queue each whole message in `data`; return the incomplete rest."""
        start = 0
        while len(data) - start >= HEADER.size:
            (size,) = HEADER.unpack_from(data, start)
            if len(data) - start - HEADER.size < size:
                break
            body = data[start + HEADER.size:start + HEADER.size + size]
            start += HEADER.size + size
            try:
                message = pickle.loads(body)
            except Exception as err:
                say(f"a forked process sent a call that could not be read ({type(err).__name__}: {err})")
                continue
            self._message(sock, message)
        return bytes(data[start:])

    def _message(self, sock, message):
        log_id, event = message
        if log_id is None:   # a child's flush(): everything before it is queued now
            try:
                sock.send(b"\x01")
            except OSError:
                pass
            return
        with _lock:
            log = _loggers.get(log_id)
        if log is None or log._closed:
            self.late += 1
            if self.late == 1:
                say("a forked process logged after its logger was closed in the parent; "
                    "those calls are not logged (close the logger after the workers end)")
            return
        log._writer.put(event)


_reader = [None]


def catch_up(timeout=10.0):
    """Read and queue everything forked children sent before now (flush/close call this)."""
    reader = _reader[0]
    return True if reader is None else reader.catch_up(timeout)


def _roots():
    """Loggers whose calls a child can forward here (not those forwarding themselves)."""
    return [log for log in _loggers.values() if not isinstance(log._writer, Forwarder)]


def _before_fork():
    _lock.acquire()   # held across the fork: the child gets a consistent registry
    _fork.pair = socket.socketpair() if _roots() else None


def _after_fork_parent():
    pair, _fork.pair = getattr(_fork, "pair", None), None
    try:
        if pair is not None:
            parent_end, child_end = pair
            child_end.close()
            if _reader[0] is None:
                _reader[0] = Reader()
                _reader[0].start()
            _reader[0].add(parent_end)
    finally:
        _lock.release()


# --- fork: the child's side

class Channel:
    """The child's end of its socket pair to the parent; whole messages under one lock."""

    def __init__(self, sock):
        self.sock, self.lock, self.broken = sock, threading.Lock(), False

    def send(self, message):
        body = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
        self.sock.sendall(HEADER.pack(len(body)) + body)


class Forwarder:
    """Stands in for a logger's journal thread in a forked child: each call goes to the parent."""

    def __init__(self, log_id, channel, writer):
        self.log_id, self.channel, self._writer = log_id, channel, writer
        self.enqueued = 0
        self._warned = False

    def __getattr__(self, name):   # stats and the like: the parent's figures at the fork
        return getattr(self._writer, name)

    @property
    def written(self):
        return self.enqueued

    def put(self, event):
        channel = self.channel
        if channel is None or channel.broken:
            self._refuse()
        else:
            with channel.lock:
                try:
                    channel.send((self.log_id, event))
                    self.enqueued += 1
                except OSError as err:
                    channel.broken = True
                    say(f"the parent process (pid {os.getppid()}) no longer takes this forked "
                        f"process's calls ({err}); they are not logged from now on")

    def _refuse(self):
        if not self._warned:
            self._warned = True
            say(f"pid {os.getpid()} is a process forked from a forked process: its VisdomLogger "
                "calls are not logged (log from the main process or from processes it forks)")

    def wait_written(self, target, timeout):
        """True once the parent holds every call sent so far (its flush delivers them)."""
        channel = self.channel
        if channel is None or channel.broken:
            return False
        with channel.lock:
            try:
                channel.send((None, SYNC))
                channel.sock.settimeout(timeout)
                return channel.sock.recv(1) == b"\x01"
            except OSError:
                return False
            finally:
                channel.sock.settimeout(None)

    def wake(self):
        pass

    def stop(self, timeout=None):
        pass

    def is_alive(self):
        return True


def close_child(log):
    """close() in a forked child: nothing to write (each call went to the parent as it was made),
    nothing to report (the parent's close says what its journal and server hold). True if so."""
    if not isinstance(log._writer, Forwarder):
        return False
    log._closed = True
    log._final = log._writer.channel is not None and not log._writer.channel.broken
    unregister(log)
    return True


def _after_fork_child():
    global _lock
    _lock = threading.RLock()   # the parent's was held across the fork: this process's own
    pair, _fork.pair = getattr(_fork, "pair", None), None
    reader, _reader[0] = _reader[0], None
    if reader is not None:   # the parent's ends of its other children: not ours
        for sock in list(reader.buffers) + reader._added + [reader._wake_r, reader._wake_w]:
            sock.close()
        reader.selector.close()
    channel = None
    if pair is not None:
        pair[0].close()
        channel = Channel(pair[1])
    signals.forked()
    for log in _loggers.values():
        try:
            _forward(log, channel)
        except Exception as err:   # this child must not write into a queue nobody drains
            log._closed = True
            say(f"pid {os.getpid()} (forked): could not connect its logger to the parent's, "
                f"so its calls raise ({type(err).__name__}: {err})")


def _forward(log, channel):
    writer = log._writer
    if isinstance(writer, Forwarder):   # a child of a child: refused, see the docstring
        log._writer = Forwarder(writer.log_id, None, writer._writer)
    else:
        _fresh_locks(writer)
        log._writer = Forwarder(log._lifecycle_id, channel, writer)
    log._sender = None   # the parent's sender thread is not in this process


def _fresh_locks(writer):
    """Locks another thread of the parent held at the fork stay held in the child: replace them
    (stats and the like read the parent's figures through them)."""
    writer.lock = threading.RLock()
    writer.room = threading.Condition(writer.lock)
    if hasattr(writer, "model_lock"):
        writer.model_lock = threading.Lock()
    notices = getattr(writer, "notices", None)
    if notices is not None:
        notices._lock = threading.Lock()
