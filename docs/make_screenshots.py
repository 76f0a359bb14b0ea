"""Screenshots of every runner's dashboard for the README: docs/img/NAME.png.

Each runner (runners/*.py) trains with its default settings against a fresh Visdom server on a
free 127.0.0.1 port.  When it has finished, headless Chromium opens its environment, waits until
every window the server holds is drawn, and saves the page.  A page with console errors or failed
requests is reported and not saved.  The PNGs are generated only by this script:

    .venv/bin/python docs/make_screenshots.py [--runners mnist_mlp ...] [--data-dir DIR]
"""

import argparse
import io
import json
import logging
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from PIL import Image
from visdom import Visdom

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run from a checkout without installing
sys.path.insert(0, str(ROOT / "tests"))  # tests/support: the browser tooling

from support import browser as vb  # noqa: E402
from vizlab.server.process import VisdomServer  # noqa: E402

RUNNERS_DIR = ROOT / "runners"
# Runners photographed with other than their defaults (what the picture needs, in less time).
RUNNER_ARGS = {"gradient_flow": ["--subset", "12000", "--log-every", "10"]}


def all_runners():
    return sorted(p.stem for p in RUNNERS_DIR.glob("*.py") if p.stem != "__init__")


def build_parser():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--runners", nargs="+", metavar="NAME", default=all_runners(),
                   help="runners to photograph")
    p.add_argument("--out", type=Path, default=ROOT / "docs" / "img", help="folder for NAME.png")
    p.add_argument("--width", type=int, default=1400, help="browser width in pixels")
    p.add_argument("--data-dir", default=None,
                   help="MNIST folder handed to the runners as $VIZLAB_DATA (default: theirs)")
    p.add_argument("--timeout", type=float, default=600, help="seconds a runner may take")
    return p


def run_runner(name, port, journal, data_dir, timeout):
    env = dict(os.environ)
    if data_dir:
        env["VIZLAB_DATA"] = str(data_dir)
    cmd = [sys.executable, str(RUNNERS_DIR / f"{name}.py"), "--port", str(port), "--env", name,
           "--journal", str(journal), "--quiet", *RUNNER_ARGS.get(name, [])]
    started = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout, cwd=ROOT)
    if done.returncode != 0:
        raise RuntimeError(f"{name} failed (exit {done.returncode}):\n{done.stdout}{done.stderr}")
    return time.perf_counter() - started, done.stdout.strip().splitlines()[-1:] or [""]


def window_ids(port, env):
    """Ids of every window the server holds for `env`, in creation order."""
    reader = Visdom(server="http://127.0.0.1", port=port, raise_exceptions=True,
                    use_incoming_socket=False)
    windows = json.loads(reader.get_window_data(None, env=env))
    return sorted(windows, key=lambda win: windows[win].get("i", 0))


def save_small_png(png_bytes, path):
    """Palette PNG, optimized: UI screenshots have few colors, so this keeps them small."""
    picture = Image.open(io.BytesIO(png_bytes)).convert("RGB")
    picture = picture.quantize(colors=256, dither=Image.Dither.NONE)
    picture.save(path, optimize=True)


def photograph(browser, url, env, ids, width, path):
    page, problems = vb.open_dashboard(browser, url, env, width=width, height=900)
    # The grid slides panes into place (200 ms CSS transitions): a picture must not catch them moving.
    page.add_style_tag(content=".react-grid-item { transition: none !important; }")
    try:
        panes = vb.wait_for_panes(page, ids, timeout=60)
        page.wait_for_load_state("networkidle")
        if problems.messages():
            raise RuntimeError(f"{env}: the page has problems:\n  " + "\n  ".join(problems.messages()))
        # Crop to the panes (plus the grid's margin) instead of the viewport's empty background.
        bottom = max(p["box"]["y"] + p["box"]["height"] for p in panes.values()) + 10
        clip = {"x": 0, "y": 0, "width": width, "height": bottom}
        save_small_png(page.screenshot(full_page=True, clip=clip), path)
        return panes
    finally:
        page.close()


def photograph_script(cmd, env_name, width, out, environ=None, timeout=900):
    """Run `cmd` (a script logging to the VISDOM_PORT it is given, or to --port) against a fresh
    server in a scratch folder, then photograph env `env_name`; returns the window ids."""
    logging.getLogger("visdom").setLevel(logging.ERROR)
    with vb.open_browser() as browser, tempfile.TemporaryDirectory(prefix="vizlab-shot-") as tmp:
        with VisdomServer(env_path=Path(tmp) / "env") as server:
            cmd = [str(c).replace("{port}", str(server.port)) for c in cmd]
            environ = dict(environ or os.environ, VISDOM_PORT=str(server.port))
            done = subprocess.run(cmd, capture_output=True, text=True, cwd=tmp, env=environ, timeout=timeout)
            if done.returncode != 0:
                raise RuntimeError(f"{Path(cmd[1]).name} failed (exit {done.returncode}):\n{done.stdout}{done.stderr}")
            ids = window_ids(server.port, env_name)
            photograph(browser, server.url, env_name, ids, width, out)
    return ids


def main(argv=None):
    args = build_parser().parse_args(argv)
    logging.getLogger("visdom").setLevel(logging.ERROR)  # its per-client "new session" chatter
    unknown = sorted(set(args.runners) - set(all_runners()))
    if unknown:
        sys.exit(f"make_screenshots: unknown runner(s) {unknown}; choose from {all_runners()}")
    args.out.mkdir(parents=True, exist_ok=True)
    with vb.open_browser() as browser, tempfile.TemporaryDirectory(prefix="vizlab-shots-") as tmp:
        for name in args.runners:
            with VisdomServer(env_path=Path(tmp) / name) as server:
                seconds, summary = run_runner(name, server.port, Path(tmp) / f"{name}.jsonl",
                                              args.data_dir, args.timeout)
                ids = window_ids(server.port, name)
                path = args.out / f"{name}.png"
                photograph(browser, server.url, name, ids, args.width, path)
            print(f"{path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}: "
                  f"{path.stat().st_size / 1024:.0f} KiB, windows {ids}, run {seconds:.1f} s; {summary[0]}")
    total = sum(p.stat().st_size for p in args.out.glob("*.png"))
    print(f"{args.out}: {total / 1024:.0f} KiB in all")


def run(main, name):
    """A screenshot script's entry: a missing browser or a failed run is one line, not a traceback."""
    try:
        main()
    except (vb.BrowserMissing, RuntimeError, TimeoutError) as problem:
        sys.exit(f"{name}: {problem}")


if __name__ == "__main__":
    run(main, "make_screenshots")
