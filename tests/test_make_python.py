"""`make ... PYTHON=...`: a Python that does not run, is too old, or is not the venv's own gets one
clear line (scripts/check_python.sh, run by make before it builds or uses the venv)."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHECK = ROOT / "scripts" / "check_python.sh"


def fake_python(path, version, too_old=False):
    """A stand-in interpreter that prints `version` for the version query."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n" + ("case \"$2\" in *'< (3, 10)'*) exit 1;; esac\n" if too_old else "")
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
    assert code == 1 and "is Python 2.7; vizlab needs Python 3.10 or newer" in err


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
    assert done.returncode != 0 and "vizlab needs Python 3.10 or newer" in done.stderr
