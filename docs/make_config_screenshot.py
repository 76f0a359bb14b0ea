"""Screenshots of VisdomLogger(config=...) for the docs: docs/img/config_run.png, config_compare.png.

examples/settings_compare.py (one's own loop, config= its settings) runs twice, lr 0.01 and 0.1, against a
fresh Visdom server; the second run's page (its settings pane) is photographed, then `vizlab compare`
draws both journals into env `compare` (runs named lr=0.01 and lr=0.1), photographed the same way:

    .venv/bin/python docs/make_config_screenshot.py
"""

import argparse
import os
import sys
import tempfile
from pathlib import Path

import make_screenshots as shots   # docs/ is on sys.path when this script runs
from make_feature_screenshots import run

from vizlab.server import VisdomServer


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", type=Path, default=shots.ROOT / "docs" / "img", help="folder for the PNGs (default: %(default)s)")
    args = p.parse_args(argv)
    with shots.vb.open_browser() as browser, tempfile.TemporaryDirectory(prefix="vizlab-shots-") as tmp, \
            VisdomServer(env_path=Path(tmp) / "env") as server:
        journals = []
        for lr in ("0.01", "0.1"):
            journals.append(str(Path(tmp) / f"lr{lr}.jsonl"))
            run([str(shots.ROOT / "examples" / "settings_compare.py"), "--lr", lr, "--env", f"own_lr{lr}",
                 "--port", str(server.port), "--journal", journals[-1]], os.environ)
        run(["-m", "vizlab.cli", "compare", *journals, "--port", str(server.port), "--env", "compare"], os.environ)
        for name, env in (("config_run", "own_lr0.1"), ("config_compare", "compare")):
            path = args.out / f"{name}.png"
            ids = shots.window_ids(server.port, env)
            shots.photograph(browser, server.url, env, ids, 1400, path)
            print(f"{path}: {path.stat().st_size / 1024:.0f} KiB, windows {ids}")


if __name__ == "__main__":
    shots.run(main, "make_config_screenshot")
