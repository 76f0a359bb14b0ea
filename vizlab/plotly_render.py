"""The Plotly rendering of a window: traces, layout, legend placement, alert marks and the pane's
options, as Visdom's own line() would build them. Pure functions of a window's options and points
(vizlab.windows builds the requests from them; vizlab compare draws with them too)."""


SPARSE_POINTS = 10   # a trace of at most this many points draws markers (a lone point has no line)


def markers_on(opts, points):
    """Markers: as the window's `markers` option says, else while the trace is sparse."""
    markers = opts.get("markers")
    return points <= SPARSE_POINTS if markers is None else markers


def trace_dict(name, xs, ys, opts, whole=True):
    """One Plotly trace; `whole`: xs are the trace's every shown point (not an append's)."""
    markers = markers_on(opts, len(xs)) if whole else opts.get("markers")
    trace = {"x": xs, "y": ys, "name": name, "type": "scatter",
             "mode": "lines+markers" if markers else "lines"}
    if markers:
        trace["marker"] = {"size": opts.get("markersize", 6), "symbol": "dot"}
    if opts.get("fillarea"):
        trace["fill"] = "tonexty"
    if opts.get("webgl"):
        trace["type"] = "scattergl"
    line = {"color": opts.get("linecolor", {}).get(name), "dash": opts.get("dash", {}).get(name)}
    if any(line.values()):
        trace["line"] = {k: v for k, v in line.items() if v}
    return trace


def with_ylabel(opts, name, trace_names):
    """opts with the default y label: the window's name when it holds one trace; with several
    none (the legend names them, the title names the window), unless a ylabel was given."""
    if "ylabel" in opts or len(trace_names) > 1:
        return opts
    return dict(opts, ylabel=name)


PANE_HEIGHT = 350   # Visdom's default plot pane (px); its plot is 14 px less (the title bar)
PANE_WIDTH = 370    # Visdom's default plot pane (px)
TITLE_CHAR = 9      # px per character of Plotly's title font (17 px), about
TITLE_ROOM = 28     # px the centred title leaves clear at each side: the mode bar (24 px) and a gap
LEGEND_ROW = 19     # px per legend row (Plotly's default font)


def legend_below(opts, traces):
    """A horizontal legend under the x axis: a legend on the right takes the width of its
    longest name, which at Visdom's default ~370 px pane leaves the plot a fraction of it.

    Plotly 2.11 (Visdom's) places a legend below the plot in fractions of the plot's height, and
    its room (the bottom margin) shrinks the plot, so y is what keeps the axis labels (the
    bottom margin) clear even if every trace takes a row of its own."""
    height = opts.get("height", PANE_HEIGHT) - 14
    labels = opts.get("marginbottom", 60) + 2
    room = height - opts.get("margintop", 60) - LEGEND_ROW * traces - 8 - labels
    return {"orientation": "h", "x": 0, "xanchor": "left", "yanchor": "top",
            "y": -round(labels / max(room, labels), 3)}


def wrapped_title(opts):
    """The plot's title, on two lines when one would run past the pane (clipped) or under the
    mode bar on the right edge: broken at the last space that fits."""
    title = opts.get("title")
    fits = max(10, int((opts.get("width", PANE_WIDTH) - 2 * TITLE_ROOM) // TITLE_CHAR))
    if not isinstance(title, str) or len(title) <= fits or "<br>" in title or " " not in title[1:fits + 1]:
        return title
    cut = title.rindex(" ", 1, fits + 1)
    return title[:cut] + "<br>" + title[cut + 1:]


def layout_of(opts, traces=1):
    """Plotly layout for a line window of `traces` traces, as visdom's own line() would build
    it, with the legend under the plot."""
    layout = {"showlegend": opts.get("showlegend", True), "title": wrapped_title(opts),
              "margin": {"l": opts.get("marginleft", 60), "r": opts.get("marginright", 60),
                         "t": opts.get("margintop", 60), "b": opts.get("marginbottom", 60)},
              "modebar": {"orientation": "v"}}   # down the right edge: across the top it hides the title
    if layout["showlegend"]:
        layout["legend"] = legend_below(opts, traces)
    for axis in ("x", "y"):
        spec = {"title": opts.get(axis + "label"), "type": opts.get(axis + "type")}
        if spec["type"] == "log":   # 0.5, 0.2 rather than Plotly's bare minor digits (5, 2)
            spec["tickformat"] = "~g"
        lo, hi = opts.get(axis + "tickmin"), opts.get(axis + "tickmax")
        if lo is not None and hi is not None:
            spec["range"] = [lo, hi]
        layout[axis + "axis"] = {k: v for k, v in spec.items() if v is not None}
    layout.update(opts.get("layoutopts", {}).get("plotly", {}))
    return layout


def marked(layout, marks):
    """The layout with a dashed vertical line at each x in `marks` (the watchdog's alerts)."""
    if not marks:
        return layout
    lines = [{"type": "line", "xref": "x", "yref": "paper", "x0": x, "x1": x, "y0": 0, "y1": 1,
              "line": {"color": "#d62728", "width": 1, "dash": "dash"}} for x in marks]
    return dict(layout, shapes=list(layout.get("shapes", [])) + lines)


def pane_opts(opts):
    """The pane's own options (title and size), as Visdom's /events takes them."""
    return {k: opts[k] for k in ("title", "width", "height") if opts.get(k) is not None}


def band_traces(name, xs, mean, lo, hi, color, dash="solid"):
    """A group's mean line over a filled band: the lower edge (no line, no legend), the upper edge
    filled down to it (Plotly's "tonexty" fills to the trace before), then the mean on top."""
    fill = "rgba({}, {}, {}, 0.2)".format(*(int(color[i:i + 2], 16) for i in (1, 3, 5)))
    edge = {"type": "scatter", "mode": "lines", "line": {"width": 0, "color": color},
            "showlegend": False, "hoverinfo": "skip"}
    return [dict(edge, x=xs, y=lo, name=f"{name} (low)"),
            dict(edge, x=xs, y=hi, name=f"{name} (high)", fill="tonexty", fillcolor=fill),
            {"type": "scatter", "mode": "lines+markers" if len(xs) <= SPARSE_POINTS else "lines",
             "x": xs, "y": mean, "name": name, "line": {"color": color, "dash": dash}}]
