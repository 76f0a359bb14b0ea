"""`vizlab compare JOURNAL...`: several runs overlaid in one Visdom environment.

Visdom's own compare view names traces by number (`0_train`), drops image panes and keeps the
first run's axis range. Here each run's journal is read through the logger's window model
(vizlab.windows), then every line window is drawn once with all runs in it: one colour per run,
one dash style per trace, each run named by the settings that differ between the runs (their
"settings" records: config=, the runners, the integrations; at most MAX_NAMED in a name); a trace
the run smoothed is drawn faint under its smoothed companion, as live (vizlab.smoothing). The last
image of each run goes beside the others, and a `runs` table lists settings and final values.
`--follow` keeps reading the journals as they grow, so a comparison of live runs stays live.
Lines that are not records are skipped and named (exit code 3 then; 0 when every line was read;
1 when a journal is missing, empty, holds no record at all, or the server is missing).
"""

import html
import os
import sys
import time

from vizlab import journal as journal_mod
from vizlab import landing, smoothing
from vizlab.address import add_address_options
from vizlab.connection import Connection, ServerRefused
from vizlab.errors import UserError
from vizlab.cli.replay import no_journal
from vizlab.palette import DASHES, color
from vizlab.run_settings import cut, recorded
from vizlab.settings_table import read_settings
from vizlab.windows import (LEGEND_ROW, MAX_POINTS, PANE_HEIGHT, Windows, layout_of, pane_opts, trace_dict,
                            with_ylabel)

SETTINGS_WIN = "hparams"            # where the runners' table was before settings records
MAX_NAMED = 3                       # settings in a run's name (the runs table has them all)
MAX_NAME_VALUE = 24                 # characters of a value in a run's name


class Run:
    """One journal, read incrementally into a window model (only whole lines are consumed)."""

    def __init__(self, path):
        self.path = path
        self.label = os.path.basename(path).removesuffix(".jsonl")
        if os.path.isdir(path):
            raise UserError(no_journal(path, several=True))
        if not os.path.isfile(path):
            raise UserError(f"{path}: no such journal; pass the path the logger printed "
                            "(default: runs/<env>-<time>.jsonl)")
        self.model = Windows("compare", MAX_POINTS)
        self.offset = 0
        self.records = 0          # valid records applied
        self.lines = 0            # lines read
        self.skipped = []         # (line number, why) of lines that are not records

    def read_new(self, final=True):
        """Apply the records written since the last call; True when anything changed. Bad lines
        are skipped and kept in self.skipped; a last line without its newline waits for the next
        call, unless `final` (the journal is done: it is a torn line)."""
        lines, end = journal_mod.read_since(self.path, self.offset, self.lines + 1, final)
        for number, record, why in lines:
            if record is not None:
                try:
                    self.model.apply(record)
                    self.records += 1
                    continue
                except (ValueError, KeyError, TypeError) as err:
                    why = f"a {record['op']!r} record the window model refuses ({err!r:.60})"
            if why is not None:
                self.skipped.append((number, why))
        self.lines += len(lines)
        self.offset += end
        return end > 0

    def settings(self):
        """{setting: value as text} from the run's settings records (every settings pane), else
        from the runners' table in window `hparams` (journals written before the records)."""
        if self.model.settings:
            merged = {}
            for record in self.model.settings.values():
                merged.update(recorded(record))
            return merged
        win = self.model.windows.get(SETTINGS_WIN)
        if win is None or win.kind != "message":
            return {}
        content = win.message["data"][0].get("content")
        return read_settings(content) if isinstance(content, str) else {}


def name_runs(runs):
    """Each run's name: the settings that differ between the runs, else the journal's name."""
    settings = [run.settings() for run in runs]
    keys = dict.fromkeys(k for s in settings for k in s)   # in the order the runs list them
    differing = [k for k in keys if len({s.get(k) for s in settings}) > 1]
    short = short_keys(differing)
    names = [run_name(s, differing, short) or run.label for run, s in zip(runs, settings)]
    if len(set(names)) < len(names):   # e.g. runs that differ only in something not logged
        names = [f"{n} ({run.label})" if names.count(n) > 1 else n for n, run in zip(names, runs)]
    return names, settings, differing


def short_keys(keys):
    """{key: its last dotted part where no other key ends the same ('optimizer.lr' -> 'lr')}."""
    last = [k.rpartition(".")[2] for k in keys]
    return {k: tail if last.count(tail) == 1 and tail else k for k, tail in zip(keys, last)}


def run_name(settings, differing, short):
    """'lr=0.01, batch_size=64': the first MAX_NAMED differing settings the run has, then how
    many more."""
    parts = [f"{short[k]}={cut(settings[k], MAX_NAME_VALUE)}" for k in differing if k in settings]
    if len(parts) > MAX_NAMED:
        parts = parts[:MAX_NAMED] + [f"+{len(parts) - MAX_NAMED} more"]
    return ", ".join(parts)


def line_window(name, runs, names):
    """All runs' traces of line window `name`, coloured by run and dashed by trace."""
    trace_names = []
    for run in runs:
        win = run.model.windows.get(name)
        if win is not None and win.kind == "lines":
            trace_names += [t for t in win.traces if t not in trace_names]
    entries, opts = [], None
    for i, (run, run_name) in enumerate(zip(runs, names)):
        win = run.model.windows.get(name)
        if win is None or win.kind != "lines":
            continue
        opts = opts or win.opts
        for trace_name, trace in win.traces.items():
            label = run_name if len(trace_names) == 1 else f"{run_name} {trace_name}"
            marks = {k: win.opts[k] for k in ("markers", "markersize") if k in win.opts}
            line = {"color": color(i), "dash": DASHES[trace_names.index(trace_name) % len(DASHES)]}
            companion = win.companion(trace_name)
            entries.append((_trace(label, trace, marks, line), companion and _trace(label, companion, marks, line),
                            color(i)))
    data = smoothing.traces(entries)   # as the live view draws them: raw faint, smoothed on top
    if not data:   # declared, never a point: Visdom's /events needs a trace (HTTP 500 without)
        data = [dict(trace_dict("", [], [], {}), showlegend=False)]
    if "height" not in opts and len(data) > 2:   # a legend row per run: taller, not a flat plot
        opts = dict(opts, height=PANE_HEIGHT + LEGEND_ROW * (len(data) - 2))
    layout = layout_of(with_ylabel(dict(opts, showlegend=True), name, trace_names), len(data))
    for axis in ("xaxis", "yaxis"):
        layout[axis].pop("range", None)   # fit every run, not one run's fixed range
    return {"data": data, "layout": layout, "win": name, "opts": pane_opts(opts)}


def _trace(label, trace, marks, line):
    """A run's trace as the live view draws it (markers while sparse), in the run's colour and dash."""
    return dict(trace_dict(label, *trace.shown(), marks), line=line)


def image_windows(runs, names):
    """The last image of each run, one pane per run and image window, side by side."""
    messages = []
    for i, (run, run_name) in enumerate(zip(runs, names)):
        for name, win in run.model.windows.items():
            if win.kind == "message" and win.message["data"][0].get("type") == "image":
                title = win.message["opts"].get("title", name)
                opts = dict(win.message["opts"], title=f"{run_name}: {title}")
                messages.append(dict(win.message, opts=opts, win=f"{name}__run{i + 1}"))
    return messages


def last_value(trace):
    ys = [y for y in trace.shown()[1] if y is not None]
    return f"{ys[-1]:.6g}" if ys else "-"


def runs_table(runs, names, settings, differing):
    """Settings (differences in bold on yellow) and each trace's final value, one column per run."""
    head = "".join(f"<th style='padding:2px 8px;color:{color(i)}'>{html.escape(n)}</th>"
                   for i, n in enumerate(names))
    rows = []
    for key in sorted({k for s in settings for k in s}):
        mark = " style='background:#fff3b0;font-weight:bold'" if key in differing else ""
        cells = "".join(f"<td style='padding:2px 8px'>{html.escape(s.get(key, '-'))}</td>" for s in settings)
        rows.append(f"<tr{mark}><td>{html.escape(key)}</td>{cells}</tr>")
    for name in sorted({w for run in runs for w, win in run.model.windows.items() if win.kind == "lines"}):
        per_run = [run.model.windows[name].traces if name in run.model.windows else {} for run in runs]
        for trace in sorted({t for traces in per_run for t in traces}):
            cells = "".join(f"<td style='padding:2px 8px'>"
                            f"{last_value(traces[trace]) if trace in traces else '-'}</td>" for traces in per_run)
            rows.append(f"<tr><td>final {html.escape(name)} {html.escape(trace)}</td>{cells}</tr>")
    table = f"<table><tr><th></th>{head}</tr>{''.join(rows)}</table>"
    return {"data": [{"content": table, "type": "text"}], "win": "runs",
            "opts": {"title": "runs: settings (differences marked) and final values",
                     "width": min(1200, 260 + 160 * len(runs)), "height": min(900, 60 + 22 * len(rows))}}


def messages(runs):
    """Every request that draws the comparison: line windows, images, the runs table."""
    names, settings, differing = name_runs(runs)
    line_names = []
    for run in runs:
        line_names += [n for n, w in run.model.windows.items() if w.kind == "lines" and n not in line_names]
    return ([line_window(n, runs, names) for n in line_names] + image_windows(runs, names)
            + [runs_table(runs, names, settings, differing)])


def compare(paths, server=None, port=None, env="compare", follow=False,
            interval=1.0, stop=None, runs=None):
    """Draw the comparison of the journals `paths` in `env`; with follow, redraw as they grow
    until `stop` (a threading.Event) is set or Ctrl-C. Returns the number of windows drawn;
    `runs`, a list, receives the Run objects (their `skipped` lines)."""
    journal_mod.check_name("--env", env)
    runs = [] if runs is None else runs
    runs += [Run(p) for p in paths]
    for run in runs:
        run.read_new(final=not follow)
        if run.records == 0:
            if run.skipped:
                raise UserError(f"{run.path}: not a vizlab journal ({journal_mod.skipped_lines(run.skipped)}); "
                                "pass a .jsonl file written by VisdomLogger")
            raise UserError(f"{run.path}: the journal is empty; it fills once the run logs something")
        _say_skipped(run, 0)
    connection = Connection.from_environment(server, port)
    sent = _send(connection, env, runs)
    landing.note(connection, env, f"comparison of {len(runs)} runs")
    while follow and not (stop is not None and stop.is_set()):
        time.sleep(interval) if stop is None else stop.wait(interval)
        before = [len(run.skipped) for run in runs]
        if any([run.read_new(final=False) for run in runs]):
            sent = _send(connection, env, runs)
        for run, seen in zip(runs, before):
            _say_skipped(run, seen)
    return sent


def _say_skipped(run, seen):
    """Name the lines skipped since `seen` of them were named."""
    if len(run.skipped) > seen:
        print(f"vizlab compare: {journal_mod.skipped_message(run.path, run.skipped[seen:])}; "
              "everything else is compared", file=sys.stderr, flush=True)


def _send(connection, env, runs):
    batch = messages(runs)
    for message in batch:
        connection.post("events", dict(message, eid=env))
    return len(batch)


def add_parser(subparsers):
    p = subparsers.add_parser("compare", help="overlay several runs' journals in one Visdom environment")
    p.add_argument("journals", nargs="+", metavar="JOURNAL", help="JSONL journals written by VisdomLogger")
    p.add_argument("--env", default="compare", help="environment to draw into (default: %(default)s)")
    add_address_options(p)
    p.add_argument("--follow", action="store_true",
                   help="keep reading the journals as runs write them; Ctrl-C stops (default: off)")
    p.add_argument("--interval", type=float, default=1.0,
                   help="seconds between reads with --follow (default: %(default)s)")
    p.set_defaults(func=_main)


def _main(args):
    import requests

    url = f"{args.server.rstrip('/')}:{args.port}"
    try:
        if args.follow:
            print(f"vizlab compare: following {len(args.journals)} journals into {url}/env/{args.env}; "
                  "Ctrl-C stops", flush=True)
        runs = []
        windows = compare(args.journals, args.server, args.port, args.env, args.follow,
                          args.interval, runs=runs)
    except ValueError as err:            # a bad --env name
        raise UserError(str(err)) from None
    except ServerRefused as err:
        raise UserError(str(err)) from None
    except requests.RequestException:
        raise UserError(f"no Visdom server answers at {url}; start one with `vizlab serve` "
                        "or pass --server/--port") from None
    print(f"vizlab compare: {len(args.journals)} runs -> {windows} windows at {url}/env/{args.env}")
    return 3 if any(run.skipped for run in runs) else 0
