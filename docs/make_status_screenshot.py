"""Screenshot of the status pane mid-run, with watchdog alerts: docs/img/status.png.

A 600-step loop of a noisy loss (total_steps=1000, one NaN at step 200, a spike at step 400)
logs to a fresh Visdom server; the page is photographed while the run is still going (state
running, tqdm's meter, the ETA, two alerts and their dashed marks on the loss window):

    .venv/bin/python docs/make_status_screenshot.py
"""

import argparse
import logging
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import make_screenshots as shots  # noqa: E402  (it holds the one import of the browser helpers)

from vizlab import VisdomLogger  # noqa: E402
from vizlab.server.process import VisdomServer  # noqa: E402


def log_part_of_a_run(log):
    rng = random.Random(0)
    log.window("loss", title="training loss", width=560, height=330)
    for step in range(1, 601):
        loss = 2.0 / (1 + step / 100) + rng.gauss(0, 0.03)
        log.scalar("loss", step, float("nan") if step == 200 else 3.0 if step == 400 else loss, trace="train")
        if step % 100 == 0:
            assert log.flush(timeout=30)   # batches at different times: steps/s and the ETA
        time.sleep(0.002)                  # a training step


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", type=Path, default=shots.ROOT / "docs" / "img" / "status.png", help="PNG path (default: %(default)s)")
    args = p.parse_args(argv)
    logging.getLogger("visdom").setLevel(logging.ERROR)
    with shots.vb.open_browser() as browser, tempfile.TemporaryDirectory(prefix="vizlab-shot-") as tmp, \
            VisdomServer(env_path=Path(tmp) / "env") as server:
        log = VisdomLogger(env="status_demo", port=server.port, journal=str(Path(tmp) / "run.jsonl"), total_steps=1000)
        log_part_of_a_run(log)
        ids = shots.window_ids(server.port, "status_demo")
        panes = shots.photograph(browser, server.url, "status_demo", ids, 1000, args.out)
        log.close()
    first = min(panes, key=lambda w: (panes[w]["box"]["y"], panes[w]["box"]["x"]))
    print(f"{args.out}: {args.out.stat().st_size / 1024:.0f} KiB, windows {ids}, first on the page: {first}")


if __name__ == "__main__":
    shots.run(main, "make_status_screenshot")
