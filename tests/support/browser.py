"""Look at a Visdom dashboard the way a person does: headless Chromium driven by Playwright.

Used by tests/test_browser.py and docs/make_screenshots.py (kept out of the installed package).  Playwright's own browser download
does not work offline, so this drives Debian's `chromium` (scripts/install_browser.sh installs it)
through `executable_path`, with flags that keep every request on this machine.
"""

import os
import shutil
from contextlib import contextmanager

CHROMIUM_PATHS = ("/usr/bin/chromium", "/usr/bin/chromium-browser")

INSTALL_HINT = ("no Chromium found: run `scripts/install_browser.sh` as root (it runs "
                "`apt-get install -y chromium`), or set VIZLAB_CHROMIUM=/path/to/chromium")

# Offline-safe: no QUIC, no background/update/sync traffic, and every host name except the
# local ones fails to resolve, so a page that reaches for a CDN fails loudly instead of hanging.
CHROMIUM_ARGS = [
    "--no-sandbox",          # we run as root in containers, where the sandbox cannot start
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1",
]


class BrowserMissing(RuntimeError):
    """No Chromium executable on this machine (the message says how to install one)."""


def find_chromium():
    """Path of a Chromium executable, or None.

    $VIZLAB_CHROMIUM, when set, is the only candidate (so a wrong path is noticed, not papered
    over); otherwise Debian's paths, then PATH.
    """
    chosen = os.environ.get("VIZLAB_CHROMIUM")
    candidates = [chosen] if chosen else [*CHROMIUM_PATHS, shutil.which("chromium"),
                                          shutil.which("chromium-browser")]
    for path in candidates:
        if path and os.path.isfile(path) and os.access(path, os.X_OK):
            return path
    return None


def require_chromium(pytest):
    """Skip the calling test when there is no Chromium; under CI (which must run it) fail."""
    if find_chromium() is None:
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the browser tests, but {INSTALL_HINT}")
        pytest.skip(INSTALL_HINT)


@contextmanager
def open_browser(executable=None):
    """A headless Playwright `Browser` on Debian's Chromium; closed on exit."""
    executable = executable or find_chromium()
    if executable is None:
        raise BrowserMissing(INSTALL_HINT)
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as err:
        raise BrowserMissing("the playwright package is missing: pip install playwright "
                             "(its browser download is not needed)") from err
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


class PageProblems:
    """Records what tells a person the page is broken: console errors, failed or refused requests.

    Attach before `page.goto`; `problems.messages()` is empty for a healthy page.
    """

    def __init__(self, page):
        self.console_errors = []
        self.failed_requests = []
        self.bad_responses = []
        page.on("console", self._on_console)
        page.on("pageerror", lambda err: self.console_errors.append(f"uncaught: {err}"))
        page.on("requestfailed", lambda req: self.failed_requests.append(
            f"{req.method} {req.url}: {req.failure}"))
        page.on("response", self._on_response)

    def _on_console(self, message):
        if message.type == "error":
            self.console_errors.append(message.text)

    def _on_response(self, response):
        if response.status >= 400:
            self.bad_responses.append(f"HTTP {response.status} {response.url}")

    def messages(self):
        return ([f"console error: {m}" for m in self.console_errors]
                + [f"request failed: {m}" for m in self.failed_requests]
                + self.bad_responses)


# One record per pane, read from the live page.  A pane's window id is the React key of its
# grid item (Visdom keys panes by window id; the DOM carries only the title).
_PANES_JS = """() => {
  const reactKey = el => {
    const k = Object.keys(el).find(k => k.startsWith('__reactInternalInstance$')
                                       || k.startsWith('__reactFiber$'));
    return k ? el[k].key : null;
  };
  return Array.from(document.querySelectorAll('.react-grid-item')).map(item => {
    const box = item.getBoundingClientRect();
    const titleEl = item.querySelector('.bar > div.pull-right');
    const plot = item.querySelector('.js-plotly-plot');
    const traces = plot && plot.data ? plot.data.map(t => ({
      name: t.name === undefined ? null : String(t.name),
      type: t.type || 'scatter',
      mode: t.mode || null,
      points: t.x ? t.x.length : (t.y ? t.y.length : (t.z ? t.z.length : 0)),
    })) : [];
    const content = item.querySelector('.content');
    return {
      id: reactKey(item),
      title: titleEl ? titleEl.textContent.trim() : '',
      box: {x: box.x, y: box.y, width: box.width, height: box.height},
      plot_title: plot && plot.layout && plot.layout.title
        ? String(plot.layout.title.text !== undefined ? plot.layout.title.text : plot.layout.title) : null,
      traces: traces,
      drawn_lines: plot ? Array.from(plot.querySelectorAll('.scatterlayer .trace path.js-line'))
                            .filter(p => (p.getAttribute('d') || '').length > 2).length : 0,
      drawn_traces: plot ? plot.querySelectorAll('.cartesianlayer .trace, .heatmaplayer .hm, .contourlayer .contour').length : 0,
      legend: plot ? Array.from(plot.querySelectorAll('.legendtext')).map(e => e.textContent) : [],
      xlabel: plot ? Array.from(plot.querySelectorAll('.xtitle')).map(e => e.textContent).join(' ') : '',
      ylabel: plot ? Array.from(plot.querySelectorAll('.ytitle')).map(e => e.textContent).join(' ') : '',
      images: Array.from(item.querySelectorAll('.content img')).map(img => ({
        complete: img.complete, width: img.naturalWidth, height: img.naturalHeight,
        src: img.getAttribute('src') || '',
      })),
      text: plot ? '' : (content ? content.innerText.trim() : ''),
    };
  });
}"""

# True once every listed window id has a drawn pane: a plot with a trace in its SVG, a loaded
# image, or text.  Polled by Playwright inside the page (no sleeps).
_DRAWN_JS = """(ids) => {
  const panes = (""" + _PANES_JS + """)();
  const drawn = p => p.drawn_traces > 0 || p.images.some(i => i.complete && i.width > 0)
                     || (p.traces.length === 0 && p.text.length > 0);
  return ids.every(id => panes.some(p => p.id === id && drawn(p)));
}"""


def panes(page):
    """{window id: pane record} for every pane on the page (see _PANES_JS for the fields)."""
    return {p["id"]: p for p in page.evaluate(_PANES_JS)}


def wait_for_panes(page, window_ids, timeout=30.0):
    """Block until every window in `window_ids` is drawn on `page`; TimeoutError names the missing."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    try:
        page.wait_for_function(_DRAWN_JS, arg=list(window_ids),
                               timeout=timeout * 1000, polling=200)
    except PlaywrightTimeout:
        have = sorted(str(k) for k in panes(page))
        raise TimeoutError(f"panes {sorted(window_ids)} not all drawn within {timeout}s; "
                           f"the page shows {have}") from None
    return panes(page)


_PRESENT_JS = """(ids) => {
  const panes = (""" + _PANES_JS + """)();
  return ids.every(id => panes.some(p => p.id === id));
}"""


def wait_for_ids(page, window_ids, timeout=30.0):
    """Block until a pane exists (drawn or still empty) for every window in `window_ids`."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    try:
        page.wait_for_function(_PRESENT_JS, arg=list(window_ids), timeout=timeout * 1000, polling=100)
    except PlaywrightTimeout:
        raise TimeoutError(f"panes {sorted(window_ids)} not all on the page within {timeout}s; "
                           f"it shows {sorted(str(k) for k in panes(page))}") from None
    return panes(page)


def open_dashboard(browser, url, env, width=1400, height=1000, listen=None):
    """New page at `url`/env/`env` with a PageProblems recorder attached; returns (page, problems).
    listen(page), when given, attaches more listeners before the page loads (so they see it all)."""
    page = browser.new_page(viewport={"width": width, "height": height})
    problems = PageProblems(page)
    if listen is not None:
        listen(page)
    page.goto(f"{url}/env/{env}", wait_until="load")
    return page, problems


_POINTS_JS = """([id, more_than]) => {
  const pane = (""" + _PANES_JS + """)().find(p => p.id === id);
  return !!pane && pane.traces.reduce((n, t) => n + t.points, 0) > more_than;
}"""


def wait_for_points(page, window_id, more_than, timeout=30.0):
    """Block until the plot in pane `window_id` holds more than `more_than` points in all."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    try:
        page.wait_for_function(_POINTS_JS, arg=[window_id, more_than],
                               timeout=timeout * 1000, polling=100)
    except PlaywrightTimeout:
        raise TimeoutError(f"pane {window_id!r} did not grow past {more_than} points "
                           f"within {timeout}s") from None
    return total_points(panes(page)[window_id])


def total_points(pane):
    return sum(t["points"] for t in pane["traces"])
