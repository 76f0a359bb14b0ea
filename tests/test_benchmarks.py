"""The benchmarks can be re-run as their docs say: every option a docstring names exists in the
script's --help, and `--before REV` measures the whole tree of REV (not a patched mix)."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPTS = sorted(p for p in (ROOT / "benchmarks").glob("*.py") if p.name != "baseline.py")
pytestmark = pytest.mark.slow


def _documented_options(script):
    """The --options of the usage lines in the module docstring (`Run: ...` or `python benchmarks/...`)."""
    doc = script.read_text().split('"""')[1]
    lines = [line for line in doc.splitlines() if f"benchmarks/{script.name}" in line]
    return set(re.findall(r"(--[a-z][a-z-]*)", " ".join(lines)))


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_every_documented_option_exists(script):
    """Read from the source (importing 19 scripts' torch would cost a minute): --help is made of these."""
    declared = set(re.findall(r"add_argument\(\s*\"(--[a-z][a-z-]*)\"", script.read_text()))
    missing = _documented_options(script) - declared
    assert not missing, f"{script.name}'s docstring names {sorted(missing)}, its parser does not"


@pytest.mark.parametrize("name", ["live_view_cost.py", "many_windows.py", "server_fanin.py", "peers.py",
                                  "journal_thread.py"])
def test_help_of_the_before_scripts(name):
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / name), "--help"], capture_output=True,
                          text=True, timeout=300, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "--before" in done.stdout


def test_before_runs_the_named_commits_whole_tree(tmp_path):
    """many_windows.py --before REV: the child imports vizlab from REV's copy, the other from here."""
    head = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True,
                          text=True).stdout.strip()
    if not head:
        pytest.skip("not a git checkout")
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        import baseline
        folder = Path(baseline.tree("HEAD"))
        assert (folder / "vizlab" / "logger" / "sender.py").read_bytes() == subprocess.run(
            ["git", "-C", str(ROOT), "show", "HEAD:vizlab/logger/sender.py"], capture_output=True).stdout
        probe = tmp_path / "probe.py"
        probe.write_text("import sys; sys.path.insert(0, %r)\nimport baseline\nbaseline.use_tree()\n"
                         "import vizlab\nbaseline.emit({'file': vizlab.__file__})\n" % str(ROOT / "benchmarks"))
        assert baseline.child("HEAD", probe, [])["file"] == str(folder / "vizlab" / "__init__.py")
        assert baseline.child(None, probe, [])["file"] == str(ROOT / "vizlab" / "__init__.py")
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))


def test_before_an_unknown_commit_is_one_line():
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "many_windows.py"), "--before",
                           "no-such-commit", "--windows", "1", "--seconds", "0.5"],
                          capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert done.returncode != 0
    assert done.stderr.strip().splitlines() == [
        f"--before no-such-commit: not a commit of {ROOT} (git log --oneline lists them)"]
