"""What `vizlab compare` draws: runs read from their journals, named by what differs, overlaid.

Each run's journal is read through the logger's window model (vizlab.windows), then every line
window is drawn once with all runs in it: one colour per run (the same in every window), one dash
style per trace, each run named by the settings that differ between the runs (their "settings"
records; at most MAX_NAMED in a name, a trace's name at most MAX_LABEL characters); a trace the run
smoothed is drawn faint under its smoothed companion, as live (vizlab.smoothing). Runs that differ
only in their seed (vizlab.run_groups) are drawn as one mean line per group over a band. Runs of
different runners are never merged: runs whose settings have other keys (another program: the
runners' settings differ in their options) are drawn apart, each window named with the env of the
runner's first run ("loss (linear_regression)"). The `runs` table comes first; the last image of each
run is collapsed into one pane per image window (or left out).
"""

import html
import os

from vizlab import journal as journal_mod
from vizlab import run_groups, smoothing
from vizlab.errors import UsageError, UserError
from vizlab.palette import DASHES, color
from vizlab.plotly_render import (LEGEND_ROW, PANE_HEIGHT, band_traces, layout_of, pane_opts, trace_dict,
                                  with_ylabel)
from vizlab.run_settings import cut, recorded
from vizlab.settings_table import read_settings
from vizlab.windows import MAX_POINTS, Windows

SETTINGS_WIN = "hparams"            # where the runners' table was before settings records
MAX_NAMED = 3                       # settings in a run's name (the runs table has them all)
MAX_NAME_VALUE = 24                 # characters of a value in a run's name
MAX_LABEL = 40                      # characters of a trace's name (run and trace)
MAX_RUN_NAME = 28                   # characters of a run's (or group's) part of it


class Run:
    """One journal, read incrementally into a window model (only whole lines are consumed)."""

    def __init__(self, path):
        self.path = path
        self.label = os.path.basename(path).removesuffix(".jsonl")
        if not os.path.isfile(path):
            raise UserError(f"{path}: no such journal; pass the path the logger printed "
                            "(default: runs/<env>-<time>.jsonl)")
        self.model = Windows("compare", MAX_POINTS)
        self.env = "main"
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
                if record["op"] == "start" and not record.get("resume"):
                    self.env = record.get("env") or "main"   # the runner: never merged with others
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


def open_runs(paths, final=True):
    """The runs of journals `paths`, each read to its end (final: a torn last line is skipped, not
    waited for): what `vizlab compare` and the runs page compare. UsageError for fewer than two
    journals, UserError for one that holds no record."""
    if len(paths) < 2:
        raise UsageError(f"compare needs two or more journals, got {len(paths)}; to look at one run, "
                         f"`vizlab replay {paths[0] if paths else 'JOURNAL'}`")
    runs = [Run(p) for p in paths]
    for run in runs:
        run.read_new(final=final)
        if run.records == 0:
            if run.skipped:
                raise UserError(f"{run.path}: not a vizlab journal ({journal_mod.skipped_lines(run.skipped)}); "
                                "pass a .jsonl file written by VisdomLogger")
            raise UserError(f"{run.path}: the journal is empty; it fills once the run logs something")
    return runs


def read_more(runs):
    """Read what the runs' journals gained since (a followed comparison); True when any did."""
    return any([run.read_new(final=False) for run in runs])   # a list: every run reads


def name_runs(runs):
    """Each run's name: the settings that differ between the runs, else the journal's name; at
    most MAX_RUN_NAME characters, and unique (a cut that made two alike ends in "#run number")."""
    settings = [run.settings() for run in runs]
    keys = dict.fromkeys(k for s in settings for k in s)   # in the order the runs list them
    differing = [k for k in keys if len({s.get(k) for s in settings}) > 1]
    short = short_keys(differing)
    names = [run_name(s, differing, short) or run.label for run, s in zip(runs, settings)]
    if len(set(names)) < len(names):   # e.g. runs that differ only in something not logged
        names = [f"{n} ({run.label})" if names.count(n) > 1 else n for n, run in zip(names, runs)]
    return unique([cut(n, MAX_RUN_NAME) for n in names]), settings, differing


def unique(names):
    return [f"{cut(n, MAX_RUN_NAME - 2 - len(str(i + 1)))} #{i + 1}" if names.count(n) > 1 else n
            for i, n in enumerate(names)]


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


def label(run_name, trace_name, several):
    """A trace's legend name, at most MAX_LABEL characters: the run's (cut), then the trace's."""
    if not several:
        return run_name
    return f"{run_name} {cut(trace_name, max(8, MAX_LABEL - len(run_name) - 1))}"


def _trace_names(name, runs):
    found = []
    for run in runs:
        win = run.model.windows.get(name)
        if win is not None and win.kind == "lines":
            found += [t for t in win.traces if t not in found]
    return found


def line_window(name, runs, names, colors, win_id=None):
    """All runs' traces of line window `name`, coloured by run (colors[i]) and dashed by trace."""
    trace_names = _trace_names(name, runs)
    entries, opts = [], None
    for run, run_name, colour in zip(runs, names, colors):
        win = run.model.windows.get(name)
        if win is None or win.kind != "lines":
            continue
        opts = opts or win.opts
        for trace_name, trace in win.traces.items():
            text = label(run_name, trace_name, len(trace_names) > 1)
            marks = {k: win.opts[k] for k in ("markers", "markersize") if k in win.opts}
            line = {"color": colour, "dash": DASHES[trace_names.index(trace_name) % len(DASHES)]}
            companion = win.companion(trace_name)
            entries.append((_trace(text, trace, marks, line), companion and _trace(text, companion, marks, line),
                            colour))
    return _pane(name, win_id, smoothing.traces(entries), opts, trace_names)


def band_window(name, groups, runs, names, colors, band, win_id=None):
    """Line window `name` with one mean line and band per group of runs (vizlab.run_groups)."""
    trace_names = _trace_names(name, runs)
    data, opts = [], None
    for group, group_name, colour in zip(groups, names, colors):
        for trace_name in trace_names:
            series = []
            for i in group:
                win = runs[i].model.windows.get(name)
                if win is not None and win.kind == "lines" and trace_name in win.traces:
                    opts = opts or win.opts
                    series.append(win.traces[trace_name].shown())
            if series:
                dash = DASHES[trace_names.index(trace_name) % len(DASHES)]
                data += band_traces(label(group_name, trace_name, len(trace_names) > 1),
                                    *run_groups.band(series, band), colour, dash)
    pane = _pane(name, win_id, data, opts, trace_names, shown=sum(1 for t in data if t.get("showlegend", True)))
    if "legend" in pane["layout"]:   # Plotly lists filled traces in reverse unless told otherwise
        pane["layout"]["legend"]["traceorder"] = "normal"
    return pane


def _pane(name, win_id, data, opts, trace_names, shown=None):
    opts = opts or {"title": name}
    if not data:   # declared, never a point: Visdom's /events needs a trace (HTTP 500 without)
        data = [dict(trace_dict("", [], [], {}), showlegend=False)]
    legend = len(data) if shown is None else shown
    if "height" not in opts and legend > 2:   # a legend row per run: taller, not a flat plot
        opts = dict(opts, height=PANE_HEIGHT + LEGEND_ROW * (legend - 2))
    if win_id is not None:
        opts = dict(opts, title=win_id)
    layout = layout_of(with_ylabel(dict(opts, showlegend=True), name, trace_names), legend)
    for axis in ("xaxis", "yaxis"):
        layout[axis].pop("range", None)   # fit every run, not one run's fixed range
    return {"data": data, "layout": layout, "win": win_id or name, "opts": pane_opts(opts)}


def _trace(label, trace, marks, line):
    """A run's trace as the live view draws it (markers while sparse), in the run's colour and dash."""
    return dict(trace_dict(label, *trace.shown(), marks), line=line)


def image_panes(runs, names, suffix=""):
    """The last image of each run, collapsed into one pane per image window (side by side, each
    captioned with its run's name), instead of one pane per run and window."""
    found = {}
    for run, run_name in zip(runs, names):
        for name, win in run.model.windows.items():
            if win.kind == "message" and win.message["data"][0].get("type") == "image":
                found.setdefault(name, []).append((run_name, win.message["data"][0]["content"]["src"]))
    panes = []
    for name, images in found.items():
        cells = "".join(f"<figure style='display:inline-block;margin:4px;text-align:center'>"
                        f"<img src='{html.escape(src, quote=True)}' style='max-width:200px;max-height:200px'>"
                        f"<figcaption style='font-size:11px'>{html.escape(run_name)}</figcaption></figure>"
                        for run_name, src in images)
        win = f"{name}{suffix}"
        panes.append({"data": [{"content": f"<div>{cells}</div>", "type": "text"}], "win": win,
                      "opts": {"title": f"{win}: the last image of each run", "width": min(1200, 60 + 212 * len(images)),
                               "height": 300}})
    return panes


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


def messages(runs, group_by="seed", band="std", images=True):
    """Every request that draws the comparison: the runs table first, then each runner's line
    windows (a band per group where runs differ only in `group_by`; None: never grouped), then
    the images collapsed (images=False: left out)."""
    runners = {}
    for i, run in enumerate(runs):
        runners.setdefault(tuple(sorted(run.settings())), []).append(i)
    runners = dict(zip(runner_names([runs[m[0]].env for m in runners.values()]), runners.values()))
    colors = [color(i) for i in range(len(runs))]   # a run's colour, the same in every window
    all_names, all_settings, all_differing = [None] * len(runs), [None] * len(runs), set()
    out = []
    for env, members in runners.items():
        mine = [runs[i] for i in members]
        names, settings, differing = name_runs(mine)
        all_differing.update(differing)
        suffix = f" ({env})" if len(runners) > 1 else ""
        for i, name, setting in zip(members, names, settings):
            all_names[i], all_settings[i] = f"{env}: {name}" if suffix else name, setting
        grouped = run_groups.groups(settings, group_by) if group_by else [[i] for i in range(len(mine))]
        banded = any(len(g) > 1 for g in grouped)
        if banded:
            group_names = name_groups(grouped, settings, group_by)
            group_colors = [colors[members[g[0]]] for g in grouped]
        line_names = []
        for run in mine:
            line_names += [n for n, w in run.model.windows.items() if w.kind == "lines" and n not in line_names]
        for name in line_names:
            win_id = f"{name}{suffix}" if suffix else None
            out.append(band_window(name, grouped, mine, group_names, group_colors, band, win_id) if banded
                       else line_window(name, mine, names, [colors[i] for i in members], win_id))
        if images:
            out += image_panes(mine, names, suffix)
    return [runs_table(runs, all_names, all_settings, all_differing)] + out


def runner_names(envs):
    """A name per runner: the env its first run logged to, numbered where two share one."""
    return [f"{env} {i + 1}" if envs.count(env) > 1 else env for i, env in enumerate(envs)]


def name_groups(grouped, settings, key):
    """Each group's name: the settings (but `key`) that differ between the groups, and its size."""
    firsts = [{k: v for k, v in settings[g[0]].items() if k != key} for g in grouped]
    keys = dict.fromkeys(k for s in firsts for k in s)
    differing = [k for k in keys if len({s.get(k) for s in firsts}) > 1]
    short = short_keys(differing)
    sizes = [f"{len(g)} {key}s" if len(g) > 1 else f"{key}={settings[g[0]].get(key, '-')}" for g in grouped]
    return unique([f"{cut(run_name(s, differing, short) or 'mean', MAX_RUN_NAME - 3 - len(size))} ({size})"
                   for s, size in zip(firsts, sizes)])
