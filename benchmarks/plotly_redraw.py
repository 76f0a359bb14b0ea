"""What one redraw of a line pane costs the page's main thread: Plotly.newPlot (stock Visdom's
page) against Plotly.react (the page vizlab's servers serve), and react with every optional part
off (fixed x range, no legend, no hover: the floor), in headless Chromium, in one run.

Four visdom-like panes (title, axis titles, a horizontal legend, two line traces of --points
points each) get --append points per trace per redraw, --rounds times; the figure is the main
thread's CPU time per redraw (CDP ThreadTime, which the machine's load does not inflate) and its
busy time (TaskDuration, which it does). It is what bounds how often the page can redraw: see
docs/server.md, "What the person watching sees".
Run: .venv/bin/python benchmarks/plotly_redraw.py [--points 1000 6000 --append 40 --rounds 15]
"""

import argparse
import functools
import http.server
import os
import sys
import threading
from pathlib import Path

import visdom

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))
from support.browser import open_browser  # noqa: E402

VARIANTS = {"newPlot (stock page)": "newPlot", "react (vizlab's page)": "react",
            "react, fixed x range, no legend, no hover": "floor"}

SETUP_JS = r"""([variant, n]) => {
  const layout = (r) => {
    const l = {showlegend: true, title: 'loss', margin: {l: 60, r: 60, t: 60, b: 60}, modebar: {orientation: 'v'},
               legend: {orientation: 'h', x: 0, xanchor: 'left', yanchor: 'top', y: -0.332},
               xaxis: {title: 'step'}, yaxis: {title: 'loss'}, datarevision: r};
    if (variant === 'floor') Object.assign(l, {showlegend: false, hovermode: false,
                                               xaxis: {title: 'step', range: [0, n * 10], autorange: false}});
    return l;
  };
  const panes = [0, 1, 2, 3].map(() => {
    const div = document.createElement('div');
    div.style.width = '500px'; div.style.height = '350px';
    document.body.appendChild(div);
    const trace = name => ({type: 'scatter', mode: 'lines', name: name, x: [], y: []});
    const data = [trace('value'), trace('smoothed')];
    for (const t of data) for (let i = 0; i < n; i++) { t.x.push(i); t.y.push(Math.random()); }
    return {div, data};
  });
  let revision = 0;
  const draw = p => (variant === 'newPlot' ? Plotly.newPlot : Plotly.react)(p.div, p.data, layout(revision++), {showLink: false});
  window.__redraw = async (k) => {
    for (const p of panes) {
      for (const t of p.data) { const last = t.x.length; for (let j = 0; j < k; j++) { t.x.push(last + j); t.y.push(Math.random()); } }
      await draw(p);
    }
    await new Promise(done => requestAnimationFrame(() => setTimeout(done, 0)));
  };
  return Promise.all(panes.map(draw));
}"""


class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def serve_plotly():
    """Visdom's own plotly.js (the one its page loads), over HTTP on a free 127.0.0.1 port."""
    js = Path(visdom.__file__).parent / "static" / "js"
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(js)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def measure(browser, port, variant, points, append, rounds):
    page = browser.new_page(viewport={"width": 1600, "height": 1200})
    page.set_content(f'<html><body><script src="http://127.0.0.1:{port}/plotly-plotly.min.js"></script></body></html>')
    page.wait_for_function("() => window.Plotly")
    page.evaluate(SETUP_JS, [variant, points])
    cdp = page.context.new_cdp_session(page)
    cdp.send("Performance.enable")

    def metrics():
        return {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}
    before = metrics()
    for _ in range(rounds):
        page.evaluate("k => window.__redraw(k)", append)
    after = metrics()
    page.close()
    redraws = 4 * rounds
    return (1000 * (after["ThreadTime"] - before["ThreadTime"]) / redraws,
            1000 * (after["TaskDuration"] - before["TaskDuration"]) / redraws)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--points", type=int, nargs="+", default=[1000, 6000], help="points per trace at the start")
    parser.add_argument("--append", type=int, default=40, help="points appended per trace per redraw")
    parser.add_argument("--rounds", type=int, default=15, help="redraws of each of the 4 panes")
    args = parser.parse_args()
    print(f"load average before: {os.getloadavg()}; {os.cpu_count()} cores", flush=True)
    server = serve_plotly()
    print("| points per trace | redraw | main thread CPU per redraw | busy per redraw |")
    print("|---:|---|---:|---:|")
    with open_browser() as browser:
        for points in args.points:
            base = None
            for name, variant in VARIANTS.items():
                cpu, busy = measure(browser, server.server_port, variant, points, args.append, args.rounds)
                base = base or cpu
                print(f"| {points:,} | {name} | {cpu:.1f} ms ({cpu / base:.2f}x) | {busy:.1f} ms |", flush=True)
    server.shutdown()
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
