"""Screenshot of the README's first example, a loop of one's own: docs/img/own_loop.png.

Runs examples/own_loop.py (an MNIST MLP with config= and total_steps=) against a fresh Visdom
server on a free 127.0.0.1 port, then photographs env my_mnist with headless Chromium the way
docs/make_screenshots.py photographs the runners (that script owns the browser helpers):

    .venv/bin/python docs/make_own_loop_screenshot.py [--data-dir DIR] [--epochs N]
"""

import argparse
import sys

import make_screenshots as shots   # docs/ is on sys.path when this script runs

from vizlab.runner_kit.data import default_data_dir

ROOT = shots.ROOT


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--out", type=shots.Path, default=ROOT / "docs" / "img" / "own_loop.png", help="PNG to write")
    p.add_argument("--data-dir", default=default_data_dir(), help="folder holding MNIST/raw/*.gz")
    p.add_argument("--epochs", type=int, default=3, help="training epochs")
    p.add_argument("--width", type=int, default=1400, help="browser width in pixels")
    args = p.parse_args(argv)
    cmd = [sys.executable, ROOT / "examples" / "own_loop.py", "--epochs", args.epochs,
           "--data-dir", args.data_dir, "--port", "{port}"]
    ids = shots.photograph_script(cmd, "my_mnist", args.width, args.out)
    print(f"{args.out}: {args.out.stat().st_size / 1024:.0f} KiB, windows {ids}")


if __name__ == "__main__":
    shots.run(main, "make_own_loop_screenshot")
