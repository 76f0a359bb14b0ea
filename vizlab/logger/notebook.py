"""VisdomLogger in a Jupyter kernel (or any IPython shell).

A kernel outlives its cells, so a run there ends only by log.close() or at kernel shutdown (atexit),
never by a cell's exception: IPython catches that (sys.excepthook never sees it), and our
post_run_cell hook shows it in the status pane as an alert ("error in cell: ValueError: ..."),
the run still live. A cell interrupted by the kernel (SIGINT: KeyboardInterrupt in the cell) is
the same: SIGINT belongs to the kernel, vizlab installs no handler for it. Re-running the cell that
opens a logger for an env closes the earlier logger of that env first (its journal complete, its
points delivered), so one logger, one status pane, speaks for the env.

IPython is never imported here: a shell exists only if the user's process already imported it.
"""

import html
import sys

from vizlab.logger import lifecycle

_hooked = set()   # ids of the shells our hook is registered with


def shell():
    """The running IPython shell, or None outside IPython (a script, a test)."""
    ipython = sys.modules.get("IPython")
    get = getattr(ipython, "get_ipython", None)
    try:
        return get() if get is not None else None
    except Exception:   # a half-imported or odd IPython: behave as a script
        return None


def opening(env):
    """A logger for `env` is opening: in a shell, close the earlier open logger(s) of that env
    (the re-run set-up cell) and hook the cells once. Outside a shell, nothing."""
    ipython = shell()
    if ipython is None:
        return
    for log in lifecycle.open_loggers():
        if log.env == env and not log._closed:
            log.close()
    if id(ipython) not in _hooked:
        ipython.events.register("post_run_cell", _after_cell)
        _hooked.add(id(ipython))


def _after_cell(result):
    """IPython's post_run_cell event: a cell's exception is an alert in every open run's pane."""
    error = getattr(result, "error_in_exec", None) or getattr(result, "error_before_exec", None)
    if error is None:
        return
    if isinstance(error, KeyboardInterrupt):
        message = "cell interrupted (KeyboardInterrupt); the run goes on: log.close() ends it"
    else:
        message = f"error in cell: {type(error).__name__}: {error}"
    for log in lifecycle.open_loggers():
        try:
            log._noted(message)
        except Exception:   # a hook must never add an error to the user's cell
            pass


def html_of(log):
    """The logger as a notebook shows it: a link to its env, its state and its counts."""
    sender = getattr(log, "_sender", None)
    env = html.escape(log.env)
    where = f"<a href='{html.escape(sender.connection.url)}/env/{env}' target='_blank'>{env}</a>" \
        if sender is not None else f"{env} (not sent: send=False)"
    if not log.active:
        return f"<div>VisdomLogger {where}: not logging on this rank</div>"
    tracker = log._tracker()
    state = "closed" if log._closed else (tracker.state if tracker is not None else "open")
    stats = log.stats
    counts = f"{stats['accepted']} calls accepted, {stats['journaled']} in the journal"
    if sender is not None:
        counts += f", {sender.delivered_calls} on the server"
    journal = f"<br>journal: <code>{html.escape(log.journal_path)}</code>" if log.journal_path else ""
    return (f"<div style='font-family:sans-serif'>VisdomLogger <b>{where}</b>: "
            f"<span data-state='{html.escape(state)}'>{html.escape(state)}</span>; {counts}{journal}</div>")
