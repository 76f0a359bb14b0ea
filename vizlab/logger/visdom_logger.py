"""VisdomLogger: the one class runners use to stream to Visdom.

Calls only validate and enqueue (a few microseconds). The journal thread (vizlab.logger.writer) reads
the values, writes the JSONL journal (vizlab.journal) and feeds the window model
(vizlab.windows); the sender thread (vizlab.logger.sender) sends one request per changed window. The
two are independent: no network wait delays the journal. Bad input raises at the call site;
server trouble never reaches the caller; a caller faster than the journal waits (backpressure).
"""

import atexit
import json
import os
import threading
import time

import torch

from vizlab import journal as journal_mod
from vizlab import run_registry, run_settings
from vizlab import smoothing as smoothing_mod
from vizlab import status as status_mod
from vizlab.logger import closing, lifecycle, notebook, signals
from vizlab.logger.checks import (IMAGE_OPTS, KINDS, LINE_OPTS, PANE_OPTS, check_opts, check_trace,
                           label_list, norm_stats, plain, scalar_value, sequence)
from vizlab.journal import check_name
from vizlab.connection import Connection
from vizlab.landing import INDEX_ENV, Announcer
from vizlab.logger.counts import Counts
from vizlab.logger.notices import Notices, say
from vizlab.logger.render import MAX_PIXELS, grid_plan, layout_grid
from vizlab.logger.sender import Sender
from vizlab.logger.summary import opening_line
from vizlab.logger.values import figure_pixels, is_matplotlib_figure, plotly_parts, to_nchw
from vizlab.windows import MAX_POINTS, Windows
from vizlab.logger.writer import JournalThread


class VisdomLogger:
    """Non-blocking Visdom logging with a journal; see the module docstring and README."""

    def __init__(self, env="main", server=None, port=None, journal=None, send=True,
                 all_ranks=False, max_points=MAX_POINTS, queue_size=100_000, interval=0.25,
                 close_timeout=3.0, resume_from=None, config=None, smoothing=smoothing_mod.DEFAULT,
                 status=True, total_steps=None, watchdog=True):
        check_name("env", env)
        config = None if config is None else run_settings.as_dict(config)   # TypeError: what to pass
        smoothing = smoothing_mod.check_weight(smoothing)
        if not isinstance(status, bool):
            raise TypeError(f"status={status!r}: use True (the status pane, default) or False")
        total_steps, watchdog = status_mod.check_total(total_steps), status_mod.watchdog_of(watchdog)
        if not isinstance(max_points, int) or max_points < 10:
            raise ValueError(f"max_points={max_points!r}: use an integer >= 10 (default 10000)")
        if not isinstance(queue_size, int) or queue_size < 1:
            raise ValueError(f"queue_size={queue_size!r}: use a positive integer (default 100000)")
        if resume_from is not None and not journal:
            raise ValueError("resume_from= needs journal=PATH: the journal of the run to continue")
        self.env, self.queue_size, self.close_timeout = env, queue_size, close_timeout
        rank = _rank()
        self.active = rank == 0 or all_ranks   # under torch.distributed only rank 0 logs by default
        self._names = set()                    # window names already validated
        self._declared = {}                    # window -> its declaration, written once
        self._settings = {}                    # window -> its settings record, written once
        self._closed, self._final = not self.active, True
        self._decimated = None                 # at close: what the model said (then it is released)
        if not self.active:
            self.journal_path = None
            return
        notebook.opening(env)   # in a notebook: the re-run cell's earlier logger of env closes first
        model, model_lock, notices = Windows(env, max_points, smoothing), threading.Lock(), Notices()
        self._windows, self._windows_lock = model, model_lock   # the window model, fed by the journal thread
        writer = None
        if journal is not False:
            if resume_from is not None:
                journal_mod.truncate(journal, resume_from)
                skipped = []
                for record in journal_mod.read(journal, expand=False, skipped=skipped):
                    model.apply(record)     # the live windows continue where the checkpoint was
                if skipped:
                    say(journal_mod.skipped_message(journal, skipped))
                self._declared = {name: _declaration(r["kind"], r.get("opts", {}))
                                  for name, r in model.declared.items()}
                self._settings = {name: run_settings.entry_of(r) for name, r in model.settings.items()}
            # An explicit path is appended to; the default one is always a new file (O_EXCL).
            writer = journal_mod.Journal(journal) if journal else journal_mod.Journal.create(env, rank)
            start = {"op": "start", "env": env, "max_points": max_points, "smoothing": smoothing,
                     "time": time.time()}
            try:
                writer.write(dict(start, resume=True) if resume_from is not None else start)
            except OSError as err:
                writer.close()
                raise journal_mod.unwritable(writer.path, err.strerror or str(err)) from None
        self.journal_path = writer.path if writer else None
        self._counts = Counts()   # one set of counts, kept by both threads (vizlab.logger.counts)
        self._writer = JournalThread(writer, model, model_lock, notices, queue_size, interval, self._counts)
        if status:   # the pane first: it takes the first place on the page
            tracker = status_mod.Tracker(watchdog, total_steps, say=say)
            if writer is not None:   # "finished" only when the journal holds every call accepted
                tracker.kept = lambda: (self._writer.enqueued, self._writer.journaled)
            self._writer.begin_status(tracker)
            status_mod.install_hooks(lifecycle.open_loggers)
        connection = Connection.from_environment(server, port) if send else None
        self._address = (server, port)
        say(opening_line(env, connection and connection.url, self.journal_path, resume_from))
        self._sender, self._landing = None, None
        if connection is not None:
            self._sender = Sender(model, model_lock, self._writer, connection, notices, interval,
                                  counts=self._counts)
            self._writer.on_written = self._sender.calls_written
            self._sender.start()
            # `vizlab serve` restarted later rebuilds this run from its journal (vizlab.server.restore)
            run_registry.note(connection.url, self.journal_path, env, True)
            if env != INDEX_ENV:   # the run's row in the index on `main` (vizlab.landing)
                self._landing = Announcer(Connection.from_environment(server, port), env)
                self._landing.started()
        self._writer.start()
        atexit.register(self.close)
        lifecycle.register(self)   # SIGTERM/SIGHUP close it; forked children forward to it
        if config:
            self.settings(config)   # the settings pane; once, even when resumed

    @property
    def total_steps(self):
        """The run's last step: the status pane's progress bar and ETA (None: none shown)."""
        tracker = self._tracker()
        return tracker.total if tracker is not None else None

    @total_steps.setter
    def total_steps(self, total):
        tracker = self._tracker()
        if tracker is not None:
            tracker.total = status_mod.check_total(total)

    def _tracker(self):
        return getattr(self._writer, "status", None) if self.active else None

    def _ended(self, state, error=None):
        """The run crashed or was interrupted (the hooks, a signal): the status pane says so at
        the journal thread's next round (no wake: this may run in a signal handler)."""
        tracker = self._tracker()
        if tracker is not None and not self._closed:
            tracker.end(state, error)

    def _noted(self, message):
        """An alert in the status pane, the run still live (a notebook cell's exception)."""
        tracker = self._tracker()
        if tracker is not None and not self._closed:
            tracker.post(message, kind="cell")

    def _repr_html_(self):
        return notebook.html_of(self)   # a notebook shows the logger as a link to its env, state, counts

    def alert(self, message):
        """A row of the status pane's alerts (journaled) and one stderr line, now."""
        if not isinstance(message, str) or not message.strip():
            raise ValueError(f"alert: message must be a non-empty string, got {message!r}")
        if not self.active:
            return
        say(f"alert: {message}")
        tracker = self._tracker()
        if tracker is not None and not self._closed:   # status=False: the stderr line only
            tracker.post(message)

    def settings(self, config, win="settings", title="settings", results=None):
        """Record the run's settings (a dict, Namespace or dataclass) as window `win`'s settings
        pane and journal record, which `vizlab compare` names runs by; results: figures shown
        below them. The same settings again (a resumed run) write nothing."""
        entry = run_settings.entry(run_settings.as_dict(config), results)
        if not self.active or self._settings.get(win) == entry:
            return
        # a title only where it is not the window's name: a title declared with log.window() stays
        self._put(("settings", win, entry, {"title": title} if title != win else {}))
        self._settings[win] = entry

    def window(self, win, kind="line", smoothing=None, **opts):
        """Declare window `win` once: its kind (line, images, text, figure) and options, so that
        calls to it need none. Windows take their places on the page in the order declared.
        smoothing: this line window's weight (else the logger's; 0: none), for its new traces."""
        check_name("win", win)
        if kind not in KINDS:
            raise ValueError(f"kind={kind!r}: use one of {', '.join(map(repr, KINDS))}")
        opts = check_opts(opts, KINDS[kind])
        if smoothing is not None:
            if kind != "line":
                raise ValueError(f"smoothing= is for line windows; window {win!r} is kind={kind!r}")
            opts["smoothing"] = smoothing_mod.check_weight(smoothing)
        self._names.add(win)
        if self._declared.get(win) != _declaration(kind, opts):   # a resumed run declares again
            self._declared[win] = _declaration(kind, opts)
            self._put(("window", win, kind, opts))

    def scalar(self, win, x, y, trace="value", **opts):
        """Append point (x, y) to trace `trace` of line window `win`."""
        # x within float range: one chained compare refuses NaN, Inf and 10**400 (to the slow path)
        if (type(y) is float or type(y) is int) and (type(x) is int or type(x) is float) \
                and -1.7976931348623157e308 <= x <= 1.7976931348623157e308 \
                and not opts and win in self._names and type(trace) is str and trace and not self._closed:
            self._writer.put(("scalar", win, x, y, trace))   # the common case, checked (records.py)
            return
        self.scalars(win, x, {trace: y}, **opts)

    def scalars(self, win, x, values, **opts):
        """Append one point per trace at the same x: values = {"train": a, "val": b}."""
        if win not in self._names:
            check_name("win", win)
            self._names.add(win)
        if type(values) is not dict or not values:
            raise TypeError(f"values must be a non-empty dict of trace name -> number, got {values!r}")
        x = scalar_value("x", x)
        values = {check_trace(k): scalar_value(f"y (trace {k!r})", v) for k, v in values.items()}
        self._put(("scalars", win, x, values, check_opts(opts, LINE_OPTS, values) if opts else opts))

    def line(self, win, x, ys, **opts):
        """Replace window `win` with whole curves: ys = {name: sequence}, all sharing x."""
        check_name("win", win)
        x = sequence("x", x)
        if type(ys) is not dict or not ys:
            raise TypeError(f"ys must be a non-empty dict of trace name -> sequence, got {type(ys).__name__}")
        ys = {check_trace(k): sequence(f"ys[{k!r}]", v, len(x)) for k, v in ys.items()}
        self._put(("line", win, x, ys, check_opts(opts, LINE_OPTS, ys)))

    def images(self, win, images, labels=None, preds=None, nrow=8, title=None, mean=None,
               std=None, dataformats="NCHW", **opts):
        """Show images as one grid, each tile labelled; wrong preds marked red. images: a tensor
        or array laid out as `dataformats` (NCHW, NHWC, CHW, HWC, HW), a PIL image or a list of them.
        history=N: the window keeps its last N grids, a slider on the page steps through them."""
        check_name("win", win)
        images = to_nchw(images, dataformats)
        n = images.shape[0]
        labels, preds = label_list("labels", labels, n), label_list("preds", preds, n)
        if not isinstance(nrow, int) or isinstance(nrow, bool) or nrow < 1:
            raise ValueError(f"nrow={nrow!r}: use a positive integer (default 8)")
        mean, std = norm_stats("mean", mean, images.shape[1]), norm_stats("std", std, images.shape[1])
        opts = check_opts(opts if title is None else dict(opts, title=title), IMAGE_OPTS)
        if "history" in opts and (isinstance(opts["history"], bool) or opts["history"] < 1):
            raise ValueError(f"history={opts['history']!r}: use a number of images >= 1 (the window's slider)")
        shown = grid_plan(n, images.shape[2], images.shape[3], nrow)[0]
        if shown < n:   # the grid's pixels are bounded: layout_grid lays out the first that fit
            labels, preds = _first(labels, shown), _first(preds, shown)
            note = f"the first {shown} of {n} images"
            opts = dict(opts, caption=f"{opts['caption']} ({note})" if opts.get("caption") else note)
            if self.active:
                self._writer.notices.report(f"images:{win}", f"window {win!r}: {note} are shown "
                                            f"(a grid holds at most {MAX_PIXELS} pixels)", once=True)
        # make_grid here, on the caller's thread and device: a torch op on the sender thread would
        # start a second OpenMP pool competing with training (see vizlab.logger.render).
        grid, tile_h, tile_w, columns = layout_grid(images, nrow, mean, std)
        self._put(("images", win, grid, (tile_h, tile_w, columns), labels, preds, opts))

    def text(self, win, html, append=False, **opts):
        """Show `html` in text pane `win`; append=True adds it below what the pane shows."""
        check_name("win", win)
        if not isinstance(html, str):
            raise TypeError(f"html must be a str, got {type(html).__name__}")
        if not isinstance(append, bool):
            raise TypeError(f"append={append!r}: use True (add to the pane) or False (replace it)")
        opts = check_opts(opts, PANE_OPTS)
        self._put(("text", win, html, dict(opts, append=True) if append else opts))

    def figure(self, win, traces, layout=None, **opts):
        """Replace window `win` with a figure: Plotly traces (a list of dicts) and layout (a
        dict), a Plotly figure object, or a matplotlib Figure (shown as its picture);
        opts: the pane's title, width and height (pixels)."""
        check_name("win", win)
        if is_matplotlib_figure(traces):
            if layout is not None:
                raise TypeError("layout= is for Plotly traces; a matplotlib figure carries its own")
            return self.images(win, figure_pixels(traces), dataformats="HWC", nrow=1, **opts)
        parts = plotly_parts(traces)
        if parts is not None:   # a Plotly figure: its layout, under the one given here
            traces, own = parts
            layout = dict(own, **layout) if isinstance(layout, dict) else own if layout is None else layout
        if not isinstance(traces, (list, tuple)) or not all(isinstance(t, dict) for t in traces):
            raise TypeError("traces must be a list of Plotly trace dicts (e.g. [{'type': 'bar', ...}]), "
                            f"a Plotly figure or a matplotlib Figure, got {type(traces).__name__}")
        if layout is not None and not isinstance(layout, dict):
            raise TypeError(f"layout must be a dict or None, got {type(layout).__name__}")
        self._put(("figure", win, plain("traces", list(traces)), plain("layout", layout or {}),
                   check_opts(opts, PANE_OPTS)))

    def flush(self, timeout=10):
        """True once everything logged so far is on the server (or in the journal with send=False);
        False while any call accepted is not (a call the journal thread failed to write never is)."""
        if self._closed:
            return self._final
        lifecycle.catch_up(timeout)   # what forked children sent before now
        target = self._writer.enqueued
        if self._sender is None:
            done = self._writer.wait_written(target, timeout)
        else:
            done = self._sender.wait(target, timeout)
        return done and self._nothing_unwritten(self.stats)

    def _nothing_unwritten(self, stats):
        """No call the journal thread took is missing where flush() looks: the journal (it counts a
        call it failed to write as handled), and with send=False the disk too."""
        return not stats["unwritten"] and not (self._sender is None and stats["journal_missed"])

    def journal_offset(self, timeout=None):
        """Wait until every call made so far is in the journal, flushed to the OS; return the
        journal's size in bytes (save it in a checkpoint; resume with resume_from=)."""
        if not self.active or self.journal_path is None:
            raise RuntimeError("this logger has no journal (journal=False or a non-logging rank); "
                               "journal_offset() needs journal=None or a path")
        if self._closed:
            return os.path.getsize(self.journal_path)
        if not self._writer.wait_written(self._writer.enqueued, timeout):
            raise TimeoutError(f"the journal did not catch up within {timeout} s")
        return self._writer.offset

    @signals.closing()   # a signal meanwhile is taken when the close returns
    def close(self):
        """Write the whole journal, then deliver what the server lacks within close_timeout; say
        one line: where to watch, calls accepted, journaled and delivered (vizlab.logger.closing)."""
        closing.close(self)

    @property
    def stats(self):
        """What the plots do not show as logged (NaN/Inf gaps, errors, refusals, decimated
        traces), how long callers waited for the journal (backpressure), and the accounting:
        calls accepted, in the journal, dropped (could not be logged), missed by the journal
        (disk full: the live view has them), never written (the journal thread stopped), and
        queued: calls waiting for the journal thread now."""
        if not self.active:
            return {"nonfinite": 0, "errors": 0, "refused": 0, "dropped": 0, "waited_s": 0.0,
                    "waits": 0, "decimated": {}, "accepted": 0, "journaled": 0,
                    "journal_missed": 0, "unwritten": 0, "queued": 0}
        writer = self._writer
        counts = self._counts
        decimated = self._decimated
        if decimated is None:
            with self._windows_lock:
                decimated = self._windows.decimated()
        accepted = writer.enqueued
        # calls the thread took or should have taken but that are nowhere (0 unless it stopped)
        handled = accepted if not writer.is_alive() else writer.written
        unwritten = max(0, handled - writer.journaled - counts.dropped - writer.missed)
        return dict(nonfinite=counts.nonfinite, dropped=counts.dropped,
                    errors=counts.journal_errors + counts.send_errors, refused=counts.refused,
                    waited_s=writer.waited, waits=writer.waits, decimated=decimated,
                    accepted=accepted, journaled=writer.journaled, journal_missed=writer.missed,
                    unwritten=unwritten, queued=len(writer.queue))

    def __reduce__(self):
        raise TypeError(lifecycle.NOT_SENDABLE)

    def __enter__(self):
        return self

    def __exit__(self, kind, value, tb):
        ended = kind and status_mod.describe(kind, value)
        if ended:   # the run ends by this exception: the hooks would find the logger closed
            self._ended(*ended)
        self.close()

    def _put(self, event):
        if not self.active:
            return
        if self._closed:
            raise RuntimeError("VisdomLogger is closed; open a new one to keep logging")
        self._writer.put(event)

    def watch_system(self, every=2.0):
        """Log CPU %, RSS and CUDA memory/utilization every `every` s from a background thread."""
        from vizlab.logger.system import SystemWatcher
        return SystemWatcher(self, every) if self.active else None


def _declaration(kind, opts):
    return json.dumps([kind, opts], sort_keys=True, default=str)   # as the journal has it


def _first(labels, count):
    return None if labels is None else labels[:count]


def _rank():
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        return torch.distributed.get_rank()
    return 0
