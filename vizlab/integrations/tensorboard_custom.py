"""add_custom_scalars' layouts: windows that combine the tags a layout names.

A 'Multiline' chart is a line window with one trace per tag (a tag may be a regular expression, as
in TensorBoard); a 'Margin' chart [value, lower, upper] is a figure with the bounds drawn as a band.
Scalars logged before the layout (tensorboardX's own demo_custom_scalars.py adds it after the data)
are read back from the run's journal when the layout comes; those logged after reach the charts as
they are logged.
"""

import re

from vizlab import journal as journal_mod
from vizlab.palette import BLUE

MARGIN_POINTS = 1000   # points a margin chart draws (every k-th when there are more)


class Chart:
    def __init__(self, win, title, kind, tags):
        self.win, self.title, self.kind, self.tags = win, title, kind, list(tags)
        self.points = {}     # margin charts: step -> [value, lower, upper]
        self.drawn = 0       # margin points at the last redraw
        self.pending = False # a margin point not drawn yet

    def wants(self, tag):
        return any(tag == t or re.fullmatch(t, tag) for t in self.tags)

    def add(self, log, tag, step, value):
        if self.kind == "Multiline":
            log.scalars(self.win, step, {tag: value})
            return
        self.points.setdefault(step, [None, None, None])[self.tags.index(tag)] = float(value)
        self.pending = True
        n = len(self.points)
        if n < 200 or n - self.drawn >= n // 200:   # about 200 redraws per doubling of the points
            self.draw(log)

    def draw(self, log):
        if not self.pending:
            return
        self.drawn, self.pending = len(self.points), False
        steps = sorted(self.points)
        steps = steps[::-(-len(steps) // MARGIN_POINTS)]
        value, lower, upper = ([self.points[s][i] for s in steps] for i in range(3))
        traces = [{"type": "scatter", "mode": "lines", "name": self.tags[1], "x": steps, "y": lower,
                   "line": {"width": 0, "color": BLUE}, "showlegend": False},
                  {"type": "scatter", "mode": "lines", "name": f"{self.tags[1]} .. {self.tags[2]}", "x": steps,
                   "y": upper, "fill": "tonexty", "fillcolor": "rgba(31,119,180,0.2)", "line": {"width": 0}},
                  {"type": "scatter", "mode": "lines", "name": self.tags[0], "x": steps, "y": value,
                   "line": {"color": BLUE, "width": 2}}]
        log.figure(self.win, traces, {"title": self.title, "xaxis": {"title": "step"}}, title=self.title)


def backfill(log, charts, routes):
    """Give new `charts` the scalars logged so far: every scalar record of the journal whose
    (window, trace) is a tag's route (routes: tag -> (window, trace)). No journal: nothing to read."""
    tags = {where: tag for tag, where in routes.items()}
    if not charts or not tags or log.journal_path is None:
        return
    log.journal_offset()   # every call so far is in the journal
    for record in journal_mod.read(log.journal_path):
        if record["op"] != "scalars":
            continue
        for trace, value in record["y"].items():
            tag = tags.get((record["win"], trace))
            if tag is None or value is None:
                continue
            for chart in charts:
                if chart.wants(tag):
                    chart.add(log, tag, record["x"], value)
    for chart in charts:
        chart.draw(log)


def parse_layout(layout):
    """{category: {title: [kind, tags]}} -> [(category, title, kind, tags)]."""
    if not isinstance(layout, dict):
        raise TypeError("add_custom_scalars: layout must be {category: {title: ['Multiline' or 'Margin', [tags]]}}")
    charts = []
    for category, entries in layout.items():
        for title, spec in entries.items():
            if not (isinstance(spec, (list, tuple)) and len(spec) == 2 and isinstance(spec[1], (list, tuple))):
                raise ValueError(f"add_custom_scalars: chart {title!r} is {spec!r}; use ['Multiline', [tags]]")
            if spec[0] not in ("Multiline", "Margin"):
                raise ValueError(f"add_custom_scalars: chart {title!r} is {spec[0]!r}; use 'Multiline' or 'Margin'")
            if spec[0] == "Margin" and len(spec[1]) != 3:
                raise ValueError(f"add_custom_scalars: margin chart {title!r} needs [value, lower, upper] tags, "
                                 f"got {spec[1]!r}")
            charts.append((category, title, spec[0], spec[1]))
    return charts
