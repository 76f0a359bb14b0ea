"""The one colour palette: Plotly's ten default colours (D3's category10), by name and in order.

Runners, `vizlab compare` and the settings tables all take their colours from here, so a colour
means the same in every pane. `linecolor=` takes these '#rrggbb' strings as well as RGB triples.
"""

BLUE, ORANGE, GREEN, RED, PURPLE = "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd"
BROWN, PINK, GREY, OLIVE, CYAN = "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"
BLACK = "#000000"
COLORS = (BLUE, ORANGE, GREEN, RED, PURPLE, BROWN, PINK, GREY, OLIVE, CYAN)


def color(i):
    """The i-th colour, repeating after ten."""
    return COLORS[i % len(COLORS)]


DASHES = ("solid", "dash", "dashdot", "dot")   # Plotly's line dashes, in the order runs get them
