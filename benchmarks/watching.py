"""What the person watching gets: one run's page in headless Chromium, vizlab against the raw
visdom client on a stock server, in one run.

The run logs 4 line windows at --rate steps/s, a 48-image grid and a text pane every 5 s (vizlab
adds its status pane). A script in the page notes every 50 ms the newest x each line window shows
(the wall clock, as the loop's), so a sampled call's latency is the time from the call to the
first note that shows it; a busy page notes late, as a person sees late. Taken over
--seconds: call -> visible p50/p99, steps/s the loop reached, the page's main thread per second
(CDP Performance.getMetrics: busy = TaskDuration, wall time of its tasks, which grows with the
machine's load; CPU = ThreadTime, which does not; the poll included), websocket KB/s into the page, and
whole-env reloads (POST /env/NAME after the first draw). The raw client blocks on every call, so
its loop reaches what it reaches; vizlab's calls only queue. vizlab is measured again on the whole
tree of --before REV (benchmarks/baseline.py), in the same run.
Run: .venv/bin/python benchmarks/watching.py [--seconds 60 --rate 200 --before REV --only vizlab
     --server-python .venv-visdom03/bin/python]
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import baseline  # noqa: E402
sys.path.insert(0, str(Path(baseline.use_tree()) / "tests"))
from support.browser import open_browser  # noqa: E402
from support.servers import stock_server  # noqa: E402
from vizlab import VisdomLogger, VisdomServer  # noqa: E402

LINES = ["loss", "accuracy", "lr", "grad_norm"]
WATCH_JS = """(win) => {
  window.__seen = [];
  let last = -1;
  setInterval(() => {
    for (const item of document.querySelectorAll('.react-grid-item')) {
      const k = Object.keys(item).find(k => k.startsWith('__reactInternalInstance$') || k.startsWith('__reactFiber$'));
      const plot = item.querySelector('.js-plotly-plot');
      if (!k || item[k].key !== win || !plot || !plot.data || !plot.data.length) continue;
      const xs = plot.data[0].x || [];
      const x = xs.length ? xs[xs.length - 1] : -1;
      if (x !== last) { last = x; window.__seen.push([(performance.timeOrigin + performance.now()) / 1000, x]); }
    }
  }, 50);
}"""


class Vizlab:
    """vizlab's logger on a vizlab server."""
    name = "vizlab (VisdomLogger, vizlab serve)"

    def __init__(self, port, env):
        self.log = VisdomLogger(env=env, port=port, journal=False, smoothing=0.0, total_steps=10**9)
        for win in LINES:
            self.log.window(win)
        self.log.flush(timeout=60)

    def step(self, step, values):
        for win, y in zip(LINES, values):
            self.log.scalar(win, step, y)

    def images(self, step, grid):
        self.log.images("samples", grid)
        self.log.text("notes", f"step {step}")

    def close(self):
        self.log.close()


class Raw:
    """visdom's own client on a stock server: what a Visdom user has without vizlab."""
    name = "raw visdom client, stock server"

    def __init__(self, port, env):
        from visdom import Visdom
        self.viz, self.env = Visdom(server="http://127.0.0.1", port=port, env=env, use_incoming_socket=False), env
        for win in LINES:
            self.viz.line(X=[0], Y=[0.0], win=win, opts={"title": win})

    def step(self, step, values):
        for win, y in zip(LINES, values):
            self.viz.line(X=[step], Y=[y], win=win, update="append")

    def images(self, step, grid):
        self.viz.images(grid, win="samples")
        self.viz.text(f"step {step}", win="notes")

    def close(self):
        pass


def one_run(kind, port, browser, args):
    env = f"watch_{kind.__name__.lower()}_{time.monotonic_ns()}"
    run = kind(port, env)
    page = browser.new_page(viewport={"width": 1600, "height": 1200})
    frames, env_posts = [0], []
    page.on("websocket", lambda ws: ws.on("framereceived", lambda f: frames.__setitem__(0, frames[0] + len(f))))
    page.on("request", lambda r: env_posts.append(r.url) if r.method == "POST" and "/env/" in r.url else None)
    page.goto(f"http://127.0.0.1:{port}/env/{env}")
    page.wait_for_selector(".js-plotly-plot", timeout=60_000)
    cdp = page.context.new_cdp_session(page)
    cdp.send("Performance.enable")
    metrics0 = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}
    bytes0, posts0 = frames[0], len(env_posts)
    page.evaluate(WATCH_JS, LINES[0])
    rng, samples = np.random.default_rng(0), []
    t0, step = time.monotonic(), 1
    while time.monotonic() - t0 < args.seconds:
        run.step(step, [float(v) for v in rng.random(len(LINES))])
        if step % 20 == 0:
            samples.append((step, time.time()))
        if step % int(args.rate * 5) == 0:
            run.images(step, rng.random((48, 1, 28, 28), dtype=np.float32))
        step += 1
        time.sleep(max(0.0, t0 + step / args.rate - time.monotonic()))
    elapsed = time.monotonic() - t0
    metrics1 = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}
    try:   # the last sample shows (or 30 s pass): latency only, the rates above are taken
        page.wait_for_function("s => window.__seen.some(([t, x]) => x >= s)", arg=samples[-1][0], timeout=30_000)
    except Exception:
        pass
    seen = page.evaluate("() => window.__seen")
    run.close()
    page.close()
    lat = [next((t - at for t, x in seen if t >= at and x >= s), 30.0) for s, at in samples]
    if os.environ.get("WATCH_TRACE"):
        print([(s, round(v, 2)) for (s, _), v in zip(samples, lat)])
    q = statistics.quantiles(lat, n=100) if len(lat) > 1 else [lat[0]] * 99
    return {"code": kind.name, "steps_per_s": step / elapsed, "p50": q[49], "p99": q[98],
            "browser_ms_per_s": 1000 * (metrics1["TaskDuration"] - metrics0["TaskDuration"]) / elapsed,
            "browser_cpu_ms_per_s": 1000 * (metrics1["ThreadTime"] - metrics0["ThreadTime"]) / elapsed, "ws_kb_per_s": (frames[0] - bytes0) / elapsed / 1000,
            "reloads": len(env_posts) - posts0, "samples": len(lat)}


def vizlab_side(args, tmp, browser):
    with VisdomServer(env_path=tmp, startup_timeout=180, python=args.server_python) as srv:
        return one_run(Vizlab, srv.port, browser, args)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--seconds", type=float, default=60.0, help="logging time of each run")
    parser.add_argument("--rate", type=float, default=200.0, help="steps/s asked (4 line windows each)")
    parser.add_argument("--before", default=baseline.BEFORE, help="vizlab measured again at this commit ('': not)")
    parser.add_argument("--only", choices=["vizlab", "raw"], help="measure one side only (no --before)")
    parser.add_argument("--server-python", help="the interpreter whose visdom vizlab's server runs "
                        "(e.g. .venv-visdom03/bin/python for visdom 0.3; default: this one)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        with tempfile.TemporaryDirectory() as tmp, open_browser() as browser:
            return baseline.emit(vizlab_side(args, tmp, browser))
    print(f"load average before: {os.getloadavg()}; {os.cpu_count()} cores", flush=True)
    rows = []
    if args.before and not args.only:
        extra = ["--server-python", args.server_python] if args.server_python else []
        rows.append(baseline.child(args.before, __file__, ["--child", "--seconds", str(args.seconds),
                                                            "--rate", str(args.rate), *extra]))
        rows[-1]["code"] += f" at {baseline.describe(args.before)}"
        print(rows[-1], flush=True)
    with tempfile.TemporaryDirectory() as tmp, open_browser() as browser:
        if args.only != "raw":
            rows.append(vizlab_side(args, tmp, browser))
            rows[-1]["code"] += " now"
            print(rows[-1], flush=True)
        if args.only != "vizlab":
            with stock_server(Path(tmp), env_path=tmp, startup_timeout=180) as srv:
                rows.append(one_run(Raw, srv.port, browser, args))
                print(rows[-1], flush=True)
    print(f"\n{args.seconds:.0f} s, {args.rate:.0f} steps/s asked, 4 line windows + images + text")
    print("| code | steps/s reached | call -> visible p50 / p99 | page main thread busy / CPU "
          "| websocket into the page | env reloads |")
    print("|---|---:|---:|---:|---:|---:|")
    for r in rows:
        cpu = r.get("browser_cpu_ms_per_s")   # a --before tree may not measure it
        print(f"| {r['code']} | {r['steps_per_s']:.0f} | {r['p50']:.2f} / {r['p99']:.2f} s | "
              f"{r['browser_ms_per_s']:.0f} / {'-' if cpu is None else f'{cpu:.0f}'} ms/s | "
              f"{r['ws_kb_per_s']:.0f} KB/s | {r['reloads']} |")
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
