"""The settings table: a run's settings as HTML for a Visdom text pane, the pane sized to fit.

One renderer for every settings pane (the window model draws each "settings" record with
settings_pane; vizlab.run_settings makes the records) and for transformers' summary pane.
`vizlab compare` reads the records; read_settings reads journals written before them.
"""

import html
import re

MAX_HEIGHT = 600   # pixels of a settings pane at most (it scrolls)
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
    # A long table scrolls inside its pane rather than pushing the page down.
    return min(420, 40 + 8 * chars), min(MAX_HEIGHT, 30 + 20 * len(rows) + 40 * headings)


def sections_of(values):
    """Flat settings -> {heading: {key: value}}: "model.hidden" goes under heading "model" (keys
    without a dot first, under no heading)."""
    sections = {None: {}}
    for key, value in values.items():
        heading, dot, rest = key.partition(".")
        if dot and heading and rest:
            sections.setdefault(heading, {})[rest] = value
        else:
            sections[None][key] = value
    return {h: rows for h, rows in sections.items() if rows}


def results_html(results):
    """Results of the run (add_hparams' metrics): each name a header cell (<th>), so that
    read_settings does not read them as settings."""
    rows = "".join(f"<tr><th align=left style='padding-right:12px'>{html.escape(str(k))}</th>"
                   f"<td>{html.escape(str(v))}</td></tr>" for k, v in results.items())
    return f"<h4>results</h4><table>{rows}</table>"


def settings_pane(record):
    """(html, width, height) of the pane of a "settings" journal record."""
    sections = sections_of(record["values"])
    body = settings_html(sections)
    results, omitted = record.get("results") or {}, record.get("omitted", 0)
    if omitted:
        body += f"<p>and {omitted} more settings, not recorded</p>"
    if results:
        body += results_html(results)
    width, height = pane_size(dict(sections, **({"results": results} if results else {})))
    return body, width, min(MAX_HEIGHT, height + 20 * bool(omitted))


def log_table(log, win, sections, title):
    """Show `sections` as tables in text window `win` of VisdomLogger `log` (not settings:
    those go through vizlab.run_settings)."""
    width, height = pane_size(sections)
    log.text(win, settings_html(sections), title=title, width=width, height=height)
