"""Image windows with a history the page can step through (`VisdomLogger.images(..., history=N)`).

Each new image of such a window joins the window's last N, and from the second one on the window is
drawn as one Plotly figure: the latest image, and a slider under it that shows any earlier step, as Visdom's own
image_history panes do. (Visdom's image_history cannot be sent whole, only grown one update at a
time, so a server restarted empty could not get it back; a figure is rebuilt in one request, and
`vizlab replay` rebuilds it from the journal's image records.) Runs in the window model (journal
thread, replay); no torch.
"""

import re

SLIDER_HEIGHT = 90   # pixels the slider and its labels take under the image
STEP = re.compile(r"\(step ([^)]+)\)\s*$")


def add(history, record, message, keep):
    """history + this image record, the last `keep` kept: [(label, title, src, (width, height))]."""
    title = message["opts"].get("title") or record["win"]
    found = STEP.search(title)
    label = found.group(1) if found else str(len(history) + 1)
    width, height = record.get("size") or (256, 256)
    return (history + [(label, title, record["src"], (int(width), int(height)))])[-max(1, int(keep)):]


def message(history, plain):
    """The window's message: `plain` (the latest image as an image pane) while it has one image,
    then a figure of its image history: the latest image shown, a slider over all."""
    if len(history) < 2:
        return plain
    opts = plain["opts"]
    label, title, src, (width, height) = history[-1]
    steps = [{"label": lab, "method": "relayout",
              "args": [dict(view(w, h), **{"images[0].source": s, "title.text": t})]}
             for lab, t, s, (w, h) in history]
    layout = dict(title={"text": title}, margin={"l": 10, "r": 10, "t": 40, "b": 10}, showlegend=False,
                  images=[{"source": src, "xref": "x", "yref": "y", "x": 0, "y": height, "sizex": width,
                           "sizey": height, "sizing": "stretch", "layer": "below"}],
                  sliders=[{"active": len(history) - 1, "steps": steps, "pad": {"t": 10},
                            "currentvalue": {"prefix": "step "}}],
                  xaxis={"visible": False, "range": [0, width]},
                  yaxis={"visible": False, "range": [0, height], "scaleanchor": "x"})
    shown = dict(opts, title=title, width=max(opts.get("width", width), 240) + 40,
                 height=opts.get("height", height) + SLIDER_HEIGHT + 60)
    trace = {"type": "scatter", "x": [], "y": [], "hoverinfo": "skip", "showlegend": False}
    return {"data": [trace], "layout": layout, "opts": shown}


def view(width, height):
    """The axes and image size of one step (steps may differ in size)."""
    return {"xaxis.range": [0, width], "yaxis.range": [0, height], "images[0].y": height,
            "images[0].sizex": width, "images[0].sizey": height}
