"""Screenshots of `vizlab compare` and the system panes for the README: docs/img/compare.png, system.png.

Two short mnist_mlp runs that differ only in lr, with `--system`, stream to a fresh Visdom server;
the second run's dashboard (its system panes) is photographed, then `vizlab compare` builds both
journals into env `compare`, photographed the same way (make_screenshots.photograph):

    .venv/bin/python docs/make_feature_screenshots.py [--data-dir DIR]
"""

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import make_screenshots as shots  # noqa: E402  (it holds the one import of the browser helpers)

from vizlab.server.process import VisdomServer  # noqa: E402


def run(cmd, env):
    done = subprocess.run([sys.executable, *cmd], capture_output=True, text=True, env=env, cwd=shots.ROOT)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{done.stdout}{done.stderr}")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data-dir", default=None, help="MNIST folder handed to the runners as $VIZLAB_DATA (default: theirs)")
    p.add_argument("--out", type=Path, default=shots.ROOT / "docs" / "img", help="folder for the PNGs (default: %(default)s)")
    args = p.parse_args(argv)
    env = dict(os.environ, **({"VIZLAB_DATA": str(args.data_dir)} if args.data_dir else {}))
    with shots.vb.open_browser() as browser, tempfile.TemporaryDirectory(prefix="vizlab-shots-") as tmp, \
            VisdomServer(env_path=Path(tmp) / "env") as server:
        journals = []
        for lr in ("0.01", "0.1"):
            journals.append(str(Path(tmp) / f"lr{lr}.jsonl"))
            run([str(shots.ROOT / "runners" / "mnist_mlp.py"), "--port", str(server.port), "--env", f"lr{lr}",
                 "--lr", lr, "--epochs", "2", "--subset", "20000", "--system", "--quiet",
                 "--journal", journals[-1]], env)
        run(["-m", "vizlab.cli", "compare", *journals, "--port", str(server.port), "--env", "compare"], env)
        # A fast run may end before its first 2 s system sample: photograph a run that has them.
        sampled = [e for e in ("lr0.1", "lr0.01") if "system_cpu" in shots.window_ids(server.port, e)]
        if not sampled:
            raise RuntimeError("neither run lasted long enough for a system sample; use more --epochs")
        for name, page_env in (("system", sampled[0]), ("compare", "compare")):
            path = args.out / f"{name}.png"
            ids = shots.window_ids(server.port, page_env)
            shots.photograph(browser, server.url, page_env, ids, 1400, path)
            print(f"{path}: {path.stat().st_size / 1024:.0f} KiB, windows {ids}")


if __name__ == "__main__":
    main()
