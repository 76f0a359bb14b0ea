"""`make ... PYTHON=...`: a Python that does not run, is too old, or is not the venv's own gets one
clear line (scripts/check_python.sh, run by make before it builds or uses the venv). `make test`
runs the suite on exactly the Pythons setup.cfg declares, and skips a missing one with one line
(scripts/test_pythons.sh)."""

import configparser
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHECK = ROOT / "scripts" / "check_python.sh"
PLAN = ROOT / "scripts" / "test_pythons.sh"


def fake_python(path, version, too_old=False):
    """A stand-in interpreter that prints `version` for the version query."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n" + ("case \"$2\" in *'< (3, 11)'*) exit 1;; esac\n" if too_old else "")
                    + f"echo {version}\n")
    path.chmod(0o755)
    return str(path)


def check(python, venv, asked=1):
    done = subprocess.run(["bash", str(CHECK), python, str(venv), str(asked)], capture_output=True, text=True)
    return done.returncode, done.stderr.strip()


def test_a_python_that_does_not_run(tmp_path):
    code, err = check(str(tmp_path / "no" / "python3.12"), tmp_path / "venv")
    assert code == 1 and "does not run here" in err and len(err.splitlines()) == 1


def test_a_python_too_old(tmp_path):
    code, err = check(fake_python(tmp_path / "py27", "2.7", too_old=True), tmp_path / "venv")
    assert code == 1 and "is Python 2.7; vizlab needs Python 3.11 or newer" in err


def test_a_venv_of_another_python_is_not_reused_silently(tmp_path):
    venv = tmp_path / "venv"
    fake_python(venv / "bin" / "python", "3.99")
    code, err = check(sys.executable, venv)
    mine = "%d.%d" % sys.version_info[:2]
    assert code == 1 and f"made with Python 3.99, but PYTHON={sys.executable} is Python {mine}" in err
    assert "make clean" in err and f"VENV=.venv-{mine}" in err
    assert check(sys.executable, venv, asked=0) == (0, "")     # plain `make`: the venv as it is
    assert check(sys.executable, tmp_path / "fresh") == (0, "")  # no venv yet: it will be made


def test_make_says_it_in_one_line(tmp_path):
    old = fake_python(tmp_path / "py27", "2.7", too_old=True)
    done = subprocess.run(["make", "-s", "-C", str(ROOT), "check-python", f"PYTHON={old}",
                           f"VENV={tmp_path / 'venv'}"], capture_output=True, text=True)
    assert done.returncode != 0 and "vizlab needs Python 3.11 or newer" in done.stderr


def test_python_3_10_past_its_end_of_life_is_refused_in_one_line(tmp_path):
    code, err = check(fake_python(tmp_path / "py310", "3.10", too_old=True), tmp_path / "venv")
    assert code == 1 and err == (f"make: PYTHON={tmp_path / 'py310'} is Python 3.10; "
                                 "vizlab needs Python 3.11 or newer")


def declared():
    """(python_requires, [X.Y of each classifier]) from setup.cfg."""
    cfg = configparser.ConfigParser()
    cfg.read(ROOT / "setup.cfg")
    found = re.findall(r"Python :: (3\.\d+)$", cfg["metadata"]["classifiers"], re.M)
    return cfg["options"]["python_requires"].strip(), found


def make_var(name):
    return re.search(rf"^{name} \?=(.*)$", (ROOT / "Makefile").read_text(), re.M).group(1).split()


def test_setup_cfg_declares_exactly_the_pythons_make_test_runs():
    requires, classifiers = declared()
    pythons = make_var("PYTHONS")
    assert classifiers == pythons and requires == f">={pythons[0]}"
    assert all(v in pythons for v in make_var("WHOLE_ON"))   # none by default: the subset there


def test_a_missing_python_is_skipped_with_one_line_and_pyenv_is_found(tmp_path):
    venv = tmp_path / "venv"
    fake_python(venv / "bin" / "python", "3.11")
    pyenv = tmp_path / "pyenv"
    fake_python(pyenv / "versions" / "3.12.1" / "bin" / "python", "3.12")
    tools = tmp_path / "bin"   # a PATH without this machine's own python3.X
    tools.mkdir()
    for tool in ("ls", "sort"):
        (tools / tool).symlink_to(subprocess.check_output(["bash", "-c", f"command -v {tool}"], text=True).strip())
    env = dict(os.environ, VENV=str(venv), PYTHONS="3.11 3.12 3.13", WHOLE_ON="3.12",
               PYENV_ROOT=str(pyenv), PATH=str(tools))
    done = subprocess.run(["/bin/bash", str(PLAN), "--plan"], capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        f"Python 3.11: {venv}/bin/python (whole suite)",
        f"Python 3.12: {pyenv}/versions/3.12.1/bin/python (whole suite)",
        f"make test: skipping Python 3.13: not on this machine (no python3.13 on PATH, none in "
        f"{pyenv}/versions)"]
