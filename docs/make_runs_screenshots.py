"""Screenshots of the runs table, its parallel coordinates and a seed band (issue 30):
docs/img/runs_table.png and docs/img/seed_bands.png.

Six linear_regression runs (lr 0.02 and 0.05, seeds 0-2) stream to a fresh server (its runs
registry in a scratch HOME, so the table lists these runs only); on the runs page (`/vizlab/runs`)
the six are ticked and compared into env `seeds` (the server draws two seed bands with `vizlab
compare`'s code), the page is photographed whole, then env `seeds` like every dashboard
(make_screenshots.photograph):

    .venv/bin/python docs/make_runs_screenshots.py
"""

import argparse
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import make_screenshots as shots  # noqa: E402  (it holds the one import of the browser helpers)
from make_feature_screenshots import run  # noqa: E402

from vizlab.server.process import VisdomServer  # noqa: E402
from vizlab.server.runs_page import PATH  # noqa: E402


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", type=Path, default=shots.ROOT / "docs" / "img", help="folder for the PNGs (default: %(default)s)")
    args = p.parse_args(argv)
    with shots.vb.open_browser() as browser, tempfile.TemporaryDirectory(prefix="vizlab-shots-") as tmp:
        os.environ["HOME"] = tmp   # this server's registry lists these runs only
        env = dict(os.environ)
        with VisdomServer(env_path=Path(tmp) / "env") as server:
            for lr in ("0.02", "0.05"):
                for seed in range(3):
                    run([str(shots.ROOT / "runners" / "linear_regression.py"), "--port", str(server.port),
                         "--env", f"linear-lr{lr}-seed{seed}", "--lr", lr, "--seed", str(seed), "--epochs", "30",
                         "--quiet", "--journal", str(Path(tmp) / f"lr{lr}-seed{seed}.jsonl")], env)
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.goto(server.url + PATH, wait_until="load")
            page.wait_for_selector("#parcoords .parcoords", timeout=60_000)
            page.click("th[data-key='l:loss/train']")
            for box in page.query_selector_all("input.pick"):
                box.check()
            page.fill("#cmpenv", "seeds")
            page.click("#compare")
            page.wait_for_selector("#compared-link", timeout=60_000)
            path = args.out / "runs_table.png"
            shots.save_small_png(page.screenshot(full_page=True), path)
            print(f"{path}: {path.stat().st_size / 1024:.0f} KiB")
            path = args.out / "seed_bands.png"
            ids = ["runs", "loss", "params"]
            shots.photograph(browser, server.url, "seeds", ids, 1400, path)
            print(f"{path}: {path.stat().st_size / 1024:.0f} KiB, windows {ids}")


if __name__ == "__main__":
    main()
