"""The house rules that are not import contracts (those are setup.cfg [importlinter]):
quick commands load no torch, and the lessons have one identity in a checkout and in a wheel."""

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
COMMANDS = [[], ["assets"], ["assets", "install"], ["serve"], ["replay"], ["compare"], ["export"], ["demo"]]


def python(code, *args, cwd=ROOT, env=None):
    return subprocess.run([sys.executable, "-c", code, *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "vizlab")
def test_help_of_every_command_but_run_loads_no_torch(command):
    done = python("import sys\nimport vizlab\nfrom vizlab.cli import main\n"
                  "try:\n    main(sys.argv[1:] + ['--help'])\nexcept SystemExit:\n    pass\n"
                  "print('torch' in sys.modules)", *command)
    assert done.returncode == 0, done.stderr
    assert "usage: vizlab" in done.stdout and done.stdout.split()[-1] == "False"


def test_import_vizlab_loads_no_torch():
    done = python("import sys, vizlab; print('torch' in sys.modules)")
    assert done.stdout.split() == ["False"], done.stderr


def test_a_runner_runs_as_a_script_from_the_checkout():
    """`python runners/X.py` (and so `torchrun runners/X.py`): the folder is on sys.path, not the repo."""
    done = subprocess.run([sys.executable, "runners/linear_regression.py", "--help"], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and "usage: linear_regression" in done.stdout, done.stderr


def test_the_lessons_import_as_vizlab_runners_from_a_plain_checkout(tmp_path):
    """No install (-S: no site-packages, so no editable install either): PYTHONPATH=the checkout is
    enough for vizlab.runners, since vizlab/runners links the top-level runners/."""
    done = subprocess.run([sys.executable, "-S", "-c", "import pkgutil, vizlab.runners as r; "
                           "print(r.__file__); print(*sorted(m.name for m in pkgutil.iter_modules(r.__path__)))"],
                          cwd=tmp_path, env={"PYTHONPATH": str(ROOT)}, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    init, names = done.stdout.splitlines()
    assert Path(init) == ROOT / "vizlab" / "runners" / "__init__.py"
    assert names.split() == sorted(p.stem for p in (ROOT / "runners").glob("*.py") if p.stem != "__init__")


@pytest.mark.slow
def test_the_wheel_holds_the_lessons_under_vizlab_runners_only(tmp_path):
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
                           str(ROOT), "-w", str(tmp_path)], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    names = zipfile.ZipFile(next(tmp_path.glob("vizlab-*.whl"))).namelist()
    lessons = sorted(p.name for p in (ROOT / "runners").glob("*.py"))
    assert sorted(n.split("/")[-1] for n in names if n.startswith("vizlab/runners/")) == lessons
    assert not [n for n in names if n.startswith("runners/")]
    # the modules loaded by file path into the server process travel with the package
    assert {"vizlab/protocol.py", "vizlab/server/access.py", "vizlab/server/batch_endpoint.py",
            "vizlab/server/fast_append.py"} <= set(names)
