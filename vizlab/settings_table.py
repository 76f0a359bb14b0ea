"""The settings table: a run's settings as HTML for a Visdom text pane, the pane sized to fit.

One renderer for the runners' `hparams` pane, the integrations' `settings` panes and
SummaryWriter.add_hparams; `vizlab compare` reads these rows back to name runs by what differs.
"""

import html
import re

ROW = "<tr><td style='padding-right:12px'><b>{}</b></td><td>{}</td></tr>"
ROW_READ = re.compile(r"<tr><td[^>]*>(?:<b>)?(.*?)(?:</b>)?</td><td[^>]*>(.*?)</td></tr>", re.S)


def settings_html(sections):
    """{heading: {key: value}} -> one table per section, each under its heading (None: no heading)."""
    parts = []
    for heading, values in sections.items():
        if heading is not None:
            parts.append(f"<h4>{html.escape(str(heading))}</h4>")
        rows = "".join(ROW.format(html.escape(str(k)), html.escape(str(v))) for k, v in values.items())
        parts.append(f"<table>{rows}</table>")
    return "".join(parts)


def read_settings(table_html):
    """{key: value} (as text) back from a table settings_html wrote (any section)."""
    return {html.unescape(k): html.unescape(v) for k, v in ROW_READ.findall(table_html)}


def pane_size(sections):
    """(width, height) in pixels: Visdom's text pane takes about 8 px a character and 20 px a row
    (a heading 40), plus its title bar."""
    rows = [(k, v) for values in sections.values() for k, v in values.items()]
    # The columns line up: the longest key plus the longest value.
    chars = max((len(str(k)) for k, _ in rows), default=10) + max((len(str(v)) for _, v in rows), default=10)
    headings = sum(heading is not None for heading in sections)
    return min(420, 40 + 8 * chars), 30 + 20 * len(rows) + 40 * headings


def log_settings(log, win, sections, title="settings"):
    """Show `sections` as tables in text window `win` of VisdomLogger `log`."""
    width, height = pane_size(sections)
    log.text(win, settings_html(sections), title=title, width=width, height=height)
