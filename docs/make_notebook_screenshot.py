"""Screenshot of examples/notebook.ipynb's run on the page: docs/img/notebook.png.

The notebook is executed headless (nbclient, a real ipykernel) against a fresh Visdom server: the
status pane lists the cell that raised ("error in cell: ValueError: ...") and the run went on to
its end; the loss, the settings and the matplotlib figure of the fit beside it:

    .venv/bin/python docs/make_notebook_screenshot.py
"""

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import make_screenshots as shots  # noqa: E402  (it holds the one import of the browser helpers)

NOTEBOOK = shots.ROOT / "examples" / "notebook.ipynb"
EXECUTE = ("import sys, nbformat\nfrom nbclient import NotebookClient\n"
           "nb = nbformat.read(sys.argv[1], as_version=4)\n"
           "NotebookClient(nb, kernel_name='python3', timeout=600).execute()")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", type=Path, default=shots.ROOT / "docs" / "img" / "notebook.png",
                   help="PNG path (default: %(default)s)")
    args = p.parse_args(argv)
    environ = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(shots.ROOT), os.environ.get("PYTHONPATH")])))
    ids = shots.photograph_script([sys.executable, "-c", EXECUTE, NOTEBOOK], "notebook_demo", 1300, args.out,
                                  environ=environ)
    print(f"{args.out}: {args.out.stat().st_size / 1024:.0f} KiB, windows {ids}")


if __name__ == "__main__":
    shots.run(main, "make_notebook_screenshot")
