"""Before/after figures against a whole earlier commit, not a patched mix of two trees.

`--before REV` runs the benchmark's measuring part in a child process whose `vizlab` is the tree at
REV (`git archive` into ~/.cache/vizlab/trees/COMMIT), and the same part again on this tree, so a
figure named after a commit is what that commit does. The child is the same script (the current
one) with `--child`: it must use only what both trees have, which holds for every commit since
BEFORE (the layout of logger/, server/, integrations/). Use in a benchmark:

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import baseline
    baseline.use_tree()          # before any `import vizlab`: this tree, or the child's REV
    ...
    result = baseline.child(args.before, __file__, ["--child", ...])   # a dict the child emitted
"""

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BEFORE = "46a1acc"   # main before the every-Python, privacy and live-view work (2026-12-06)
TREE_ENV = "VIZLAB_BENCH_TREE"
RESULT = "BENCH-RESULT "


def use_tree():
    """Put the tree to measure first on sys.path: REV's copy in a child, else this checkout."""
    tree = os.environ.get(TREE_ENV) or str(ROOT)
    sys.path.insert(0, tree)
    return tree


def commit(rev):
    """The full hash of `rev`, or one line saying it is not a commit of this repository."""
    done = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--verify", "--quiet", rev + "^{commit}"],
                          capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"--before {rev}: not a commit of {ROOT} (git log --oneline lists them)")
    return done.stdout.strip()


def tree(rev):
    """A copy of the tree at `rev` (made once, then reused): the folder's path."""
    full = commit(rev)
    folder = Path(os.path.expanduser("~/.cache/vizlab/trees")) / full
    if not folder.is_dir():
        folder.parent.mkdir(parents=True, exist_ok=True)
        staging = tempfile.mkdtemp(dir=folder.parent)
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", full], check=True,
                                 capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", staging], input=archive, check=True)
        os.rename(staging, folder)   # whole or not at all: a broken copy is never reused
    if not (folder / "vizlab" / "logger").is_dir():
        sys.exit(f"--before {rev}: that commit predates the layout these benchmarks use "
                 f"(vizlab/logger/); pick {BEFORE} or later")
    return str(folder)


def describe(rev):
    return "this tree" if rev is None else f"the tree of {commit(rev)[:7]}"


def head():
    """This checkout's commit (-dirty when it has changes): what 'this tree' was."""
    return subprocess.run(["git", "-C", str(ROOT), "describe", "--always", "--dirty"],
                          capture_output=True, text=True).stdout.strip()


def child(rev, script, argv, timeout=None):
    """Run `script argv` with vizlab from `rev` (None: this tree); the dict it emitted last."""
    env = dict(os.environ)
    env[TREE_ENV] = tree(rev) if rev is not None else str(ROOT)
    env["PYTHONPATH"] = os.pathsep.join([env[TREE_ENV], env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    done = subprocess.run([sys.executable, str(script), *argv], env=env, stdout=subprocess.PIPE,
                          text=True, timeout=timeout)
    results = [line[len(RESULT):] for line in done.stdout.splitlines() if line.startswith(RESULT)]
    for line in done.stdout.splitlines():
        if not line.startswith(RESULT):
            print(line, flush=True)
    if done.returncode != 0 or not results:
        sys.exit(f"the measuring child ({describe(rev)}) failed with exit {done.returncode}")
    return json.loads(results[-1])


def emit(result):
    """In the child: hand `result` (JSON-able) to the parent."""
    print(RESULT + json.dumps(result), flush=True)
