"""Screenshot of PyTorch's TensorBoard tutorial run through vizlab: docs/img/tensorboard_tutorial.png.

Runs examples/tensorboard_tutorial.py (only its SummaryWriter import changed) against a fresh Visdom
server on a free 127.0.0.1 port, then photographs its environment with headless Chromium the way
docs/make_screenshots.py photographs the runners (that script owns the browser helpers):

    .venv/bin/python docs/make_tutorial_screenshot.py --data DIR [--batches N]
"""

import argparse
import os
import sys

import make_screenshots as shots   # docs/ is on sys.path when this script runs

ROOT = shots.ROOT
ENV = "mnist_experiment_1"


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--out", type=shots.Path, default=ROOT / "docs" / "img" / "tensorboard_tutorial.png", help="PNG to write")
    p.add_argument("--data", required=True, help="folder holding MNIST/raw/*.gz")
    p.add_argument("--batches", type=int, default=3000, help="mini-batches of the training and the test loop")
    p.add_argument("--width", type=int, default=1400, help="browser width in pixels")
    args = p.parse_args(argv)
    cmd = [sys.executable, ROOT / "examples" / "tensorboard_tutorial.py", "--data", os.path.abspath(args.data),
           "--batches", args.batches]
    ids = shots.photograph_script(cmd, ENV, args.width, args.out, dict(os.environ, MPLBACKEND="Agg"))
    print(f"{args.out}: {args.out.stat().st_size / 1024:.0f} KiB, windows {ids}")


if __name__ == "__main__":
    shots.run(main, "make_tutorial_screenshot")
