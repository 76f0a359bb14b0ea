"""What open VisdomLoggers do when their process gets SIGTERM, SIGHUP or SIGINT.

The first logger opened in the main thread installs one handler for SIGTERM and SIGHUP,
and for SIGINT while Python's own handler (KeyboardInterrupt) is installed. A signal that is
ignored (SIG_IGN, e.g. under nohup) or whose handler was set from C is left alone.

The handler never waits without a bound and never takes a lock the code it interrupted may
hold (that code may be inside log.stats, holding the window-model lock the journal thread
needs): it marks and decides, and the closing happens outside it. No CPython internals.
  - SIGTERM/SIGHUP with the default action: every logger's status pane is marked
    "interrupted" (a plain attribute), then the handler raises SystemExit. The interrupted
    code unwinds and lets go of its locks; at exit every logger closes as usual (the whole
    journal, then delivery within close_timeout) and the process ends by the signal's default
    action, so it reads "killed by SIGTERM" (exit status -15) as without vizlab. A Python
    SIGCHLD handler is dropped then (DataLoader's raises when its workers die of the same
    signal, which would cut close() short). Should something hold the process up anyway (a
    non-daemon thread, code that swallows SystemExit), SIGALRM, when unused, ends it as a second
    signal would after END_WITHIN s plus the longest close_timeout.
  - SIGINT: KeyboardInterrupt, as Python's own handler raises it.
  - A handler installed before ours (the user's, a framework's): every logger is marked, its
    journal flushed (bounded by close_timeout), then that handler runs and decides the
    process's fate. A handler installed after ours decides alone; if it calls ours, ours only
    marks and flushes.
  - During a close() on the main thread (or at exit) a signal waits: it is taken when the
    close returns, which is bounded (the disk, then close_timeout).
  - A second signal, while the first one ends the process or waits for a close: the process
    ends at once by that signal's default action. Each journal ends on its last whole record
    (a write in progress finishes first, bounded by SEAL_WAIT), followed by the final
    "interrupted" status record, which the server gets too (SHOW_WAIT for the round the sender
    has under way, then SHOW_WAIT for the post). Calls still queued are lost: that is what a
    second signal asks for. Two signals that reach Python at the same instant are taken in
    signal-number order (SIGINT before SIGTERM), whatever order they were sent in.
A forked child (a DataLoader worker) gets back the handlers from before ours: a signal ends it
as it would without vizlab; the parent's loggers are not the child's to close.
"""

import atexit
import contextlib
import json
import os
import signal
import threading
import time

import requests

from vizlab import status as status_mod
from vizlab.logger import lifecycle, notebook
from vizlab.logger.notices import say

SIGNALS = ("SIGTERM", "SIGHUP", "SIGINT")
LOCK_WAIT = 0.5           # s: how long a signal waits for the forked children's calls
SEAL_WAIT = 1.0           # s: a second signal waits at most this for a journal write in progress
SHOW_WAIT = 1.0           # s: ... this for the sender's round, this for the server to take the pane
END_WITHIN = 30           # s, plus the longest close_timeout: SIGALRM's bound on an ending

_previous = {}            # signal -> the handler installed before ours
_handling = [False]
_owner = [None]           # the pid that installed the handlers (its forked children do not close)
_ending = [None]          # the signal that ends this process (vizlab ends it at exit)
_waiting = [None]         # a signal that came during a close, taken when the close returns
_closing = [0]            # closes in progress on the main thread (at exit included)
_exiting = [False]        # the interpreter runs its exit functions


def forked():
    """In a forked child (a DataLoader worker): the handlers before ours come back, so that a
    signal ends it as it would without vizlab (the parent's loggers are not the child's to
    close); a logger the child opens installs ours anew."""
    _handling[0] = False
    for signum, previous in list(_previous.items()):
        with contextlib.suppress(ValueError, OSError):   # not the main thread: ours stays
            signal.signal(signum, previous)
            del _previous[signum]
    _owner[0] = None if not _previous else _owner[0]


def install():
    if threading.current_thread() is not threading.main_thread():
        return   # signal.signal works only there; a later logger in the main thread installs
    for name in SIGNALS:
        signum = getattr(signal, name, None)
        if signum is None or signum in _previous:
            continue   # no such signal here (Windows), or installed once already
        current = signal.getsignal(signum)
        if current in (signal.SIG_IGN, None) or (name == "SIGINT" and (
                current is not signal.default_int_handler or notebook.shell() is not None)):
            # ignored on purpose (nohup), a handler set from C, or someone's SIGINT; in a
            # notebook SIGINT interrupts a cell, never the run (the kernel sets Python's own
            # handler back before each cell, so "Python's own" says nothing there)
            continue
        _previous[signum] = current
        signal.signal(signum, _on_signal)
    if _previous and _owner[0] is None:
        _owner[0] = os.getpid()
        atexit.register(_at_exit)   # after the first logger's close: it runs before that one


def _on_signal(signum, frame):
    if _handling[0]:
        return   # a handler we chained to called ours back: the journals are flushed already
    previous = _previous.get(signum, signal.SIG_DFL)
    if os.getpid() != _owner[0]:   # a forked child: the parent's loggers are not ours to close
        if signum == signal.SIGINT or callable(previous):
            (previous if callable(previous) else signal.default_int_handler)(signum, frame)
            return
        _die(signum)
    if _ending[0] is not None or _waiting[0] is not None:
        _end_now(signum)   # a second signal
    if _closing[0]:
        _waiting[0] = signum   # taken when the close returns (closing())
        return
    _take(signum, frame, previous)


def _take(signum, frame, previous):
    if signum == signal.SIGINT:
        raise KeyboardInterrupt   # as Python's handler; the crash hooks mark the status pane
    for log in lifecycle.open_unlocked():   # the pane says so, whoever decides the process's fate
        log._ended("interrupted", f"signal {signal.Signals(signum).name}")
    installed = signal.getsignal(signum) is _on_signal
    if not installed or callable(previous):
        _handling[0] = True
        try:
            _flush_all()   # the handler installed decides what happens to the process
            if installed:
                previous(signum, frame)
        finally:
            _handling[0] = False
        return
    _ending[0] = signum
    if callable(signal.getsignal(signal.SIGCHLD)):
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)   # children dying now are no news
    if signal.getsignal(signal.SIGALRM) is signal.SIG_DFL:
        signal.signal(signal.SIGALRM, lambda *_: _end_now(signum))
        longest = max((log.close_timeout for log in lifecycle.open_unlocked()), default=0)
        signal.alarm(END_WITHIN + int(longest))
    raise SystemExit(128 + signum)   # unwinds the interrupted code; _at_exit closes and ends


@contextlib.contextmanager
def closing():
    """Around VisdomLogger.close(): a signal that comes meanwhile on the main thread waits until
    the close returns, then is taken (a second one ends the process at once)."""
    main = threading.current_thread() is threading.main_thread() and os.getpid() == _owner[0]
    _closing[0] += main
    try:
        yield
    finally:
        _closing[0] -= main
        signum = _waiting[0]
        if main and signum is not None and not _closing[0] and not _exiting[0]:
            _waiting[0] = None
            _take(signum, None, _previous.get(signum, signal.SIG_DFL))


def _at_exit():
    """Close every open logger; then, if a signal ends the process, take its default action."""
    if os.getpid() != _owner[0]:
        return
    _exiting[0] = True
    with closing():
        for log in lifecycle.open_loggers():
            try:
                log.close()
                log._writer.stop(log.close_timeout)   # also finishes a close() an error cut short
            except Exception as err:
                say(f"could not close the logger at exit ({type(err).__name__}: {err})")
    signum = _ending[0] or _waiting[0]
    if signum is not None:
        _die(signum)


def _die(signum):
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)   # ends the process as the signal would have
    time.sleep(1.0)
    os._exit(128 + signum)         # only if the signal was blocked in this thread


def _end_now(signum):
    """A second signal: each journal ends on a whole record and the final status; then die."""
    for log in lifecycle.open_unlocked():
        if isinstance(log._writer, lifecycle.Forwarder):
            continue
        try:
            _last_word(log, f"signal {signal.Signals(signum).name}")
        except Exception as err:   # the process ends now whatever happens here
            with contextlib.suppress(Exception):
                say(f"ending at once: could not show the status ({type(err).__name__}: {err})")
    _die(signum)


def _last_word(log, why):
    """Seal the journal with the final status record; show that record on the server."""
    tracker = log._writer.status
    if tracker is not None:   # also when a close was under way: its calls are not all written
        tracker.end("interrupted", why)
    record = tracker.final(time.time()) if tracker is not None else None
    if log._writer.journal is not None:
        log._writer.journal.seal(record, SEAL_WAIT)
    sender = log._sender
    if record is None or sender is None:
        return
    sender.halt()   # a round under way may carry the pane as it was: let it land first
    deadline = time.monotonic() + SHOW_WAIT
    while sender.is_alive() and time.monotonic() < deadline:
        time.sleep(0.01)
    pane = status_mod.StatusPane()
    pane.apply(record)
    message = dict(pane.message(), win=status_mod.WIN, eid=log.env)
    session = sender.connection.session   # its headers and cookies: the token, a login
    requests.post(f"{sender.connection.url}/events", data=json.dumps(message), timeout=SHOW_WAIT,
                  headers=dict(session.headers), cookies=session.cookies)


def _flush_all():
    """Every logger's journal written, each bounded by its close_timeout. No wake: waking takes
    a lock the interrupted call may hold; the journal thread comes round within its interval."""
    lifecycle.catch_up(LOCK_WAIT)
    for log in lifecycle.open_unlocked():
        if isinstance(log._writer, lifecycle.Forwarder):
            continue   # a forked child's calls are in the socket to the parent as they return
        writer = log._writer
        try:
            with _lent(writer.lock):
                if not writer.wait_written(writer.enqueued, log.close_timeout, wake=False):
                    say(f"the journal was not flushed within {log.close_timeout} s of the "
                        "signal (the interrupted code holds a lock the journal thread needs)")
        except Exception as err:   # one logger's trouble must not keep the others from flushing
            say(f"could not flush the journal on a signal ({type(err).__name__}: {err})")


@contextlib.contextmanager
def _lent(lock):
    """The queue's RLock, if the interrupted call holds it (a caller waiting for room), lent to
    the journal thread while the handler waits, so that it can take the queue. An RLock's
    release() is documented to raise RuntimeError in a thread that does not hold it; the call
    resumes holding it as before (it appends before it counts, and a count that trails for a
    moment only makes a wait end later)."""
    held = 0
    while True:
        try:
            lock.release()
        except RuntimeError:
            break
        held += 1
    try:
        yield
    finally:
        for _ in range(held):
            lock.acquire()   # the journal thread holds it only to take the queue: briefly
