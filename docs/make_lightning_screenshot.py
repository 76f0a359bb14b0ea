"""Screenshot of a Lightning run's dashboard for the README: docs/img/lightning_mnist.png.

Runs examples/lightning_mnist.py (Lightning + VizlabLogger) against a fresh Visdom server on a free
127.0.0.1 port, then photographs its environment with headless Chromium the way
docs/make_screenshots.py photographs the runners (that script owns the browser helpers):

    .venv/bin/python docs/make_lightning_screenshot.py [--data-dir DIR] [--epochs N]
"""

import argparse
import sys
from pathlib import Path

import make_screenshots as shots   # docs/ is on sys.path when this script runs

ROOT = shots.ROOT
ENV = "lightning_mnist"


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--out", type=Path, default=ROOT / "docs" / "img" / f"{ENV}.png", help="PNG to write")
    p.add_argument("--data-dir", default=None, help="MNIST folder for the example (default: its own)")
    p.add_argument("--epochs", type=int, default=3, help="epochs the example trains")
    p.add_argument("--width", type=int, default=1400, help="browser width in pixels")
    args = p.parse_args(argv)
    cmd = [sys.executable, ROOT / "examples" / "lightning_mnist.py", "--port", "{port}", "--env", ENV,
           "--epochs", args.epochs] + (["--data-dir", args.data_dir] if args.data_dir else [])
    ids = shots.photograph_script(cmd, ENV, args.width, args.out, timeout=600)
    print(f"{args.out}: {args.out.stat().st_size / 1024:.0f} KiB, windows {ids}")


if __name__ == "__main__":
    shots.run(main, "make_lightning_screenshot")
