"""No blank page after `pip install`: a wheel built from this checkout, installed in a fresh venv
whose visdom has none of its UI files (as pip installs it), then `vizlab serve` and the README's
own loop; every file the page asks for answers 200. Without npm, cache or network, `vizlab serve`
stops with the one command to run.

Kept cheap: the wheel is installed with --no-deps, and the venv reaches the shared venv's other
packages (torch, tornado, ...) through a .pth file placed after its own site-packages; its visdom
is its own copy, UI files removed."""

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from urllib.parse import urljoin

import pytest
import requests

from support.windows import points, window
from test_assets import _References, bare_visdom, offline_env  # noqa: F401 (fixtures)
from vizlab.server.assets import default_cache_dir
from vizlab.server.process import free_port

pytestmark = [pytest.mark.server, pytest.mark.slow]
ROOT = Path(__file__).resolve().parent.parent
README_LOOP = textwrap.dedent("""
    import torch
    from vizlab import VisdomLogger

    with VisdomLogger(env="fresh_loop", total_steps=20) as log:
        log.window("loss", ytype="log")
        for step in range(1, 21):
            log.scalar("loss", step, torch.tensor(1.0 / step), trace="train")
        log.images("samples", torch.rand(4, 1, 28, 28), labels=[1, 2, 3, 4], preds=[1, 2, 3, 5])
""")


def run(*command, env, timeout=600):
    return subprocess.run([str(c) for c in command], capture_output=True, text=True, env=env,
                          timeout=timeout, cwd=env["HOME"])


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    out = tmp_path_factory.mktemp("wheel")
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
                           str(ROOT), "-w", str(out)], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    return next(out.glob("vizlab-*.whl"))


@pytest.fixture
def fresh_venv(tmp_path, wheel, bare_visdom):  # noqa: F811
    """(venv bin/, its visdom static/) with the wheel installed and no PYTHONPATH to this checkout."""
    venv = tmp_path / "fresh"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    site = next(venv.glob("lib/python*/site-packages"))
    done = subprocess.run([sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install",
                           "-q", "--no-deps", "--no-index", str(wheel)], capture_output=True, text=True,
                          timeout=600, env=fresh_env(tmp_path))   # PYTHONPATH would hide the need
    assert done.returncode == 0, done.stderr[-2000:]
    shutil.copytree(bare_visdom[0] / "visdom", site / "visdom")   # before the shared packages
    shared = [p for p in sys.path if p.endswith("site-packages") and Path(p).is_dir()]
    (site / "zz_shared.pth").write_text("\n".join(shared) + "\n")
    return venv / "bin", site / "visdom" / "static"


def fresh_env(tmp_path, base=None):
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    env = {k: v for k, v in (base or os.environ).items() if k not in ("PYTHONPATH", "VISDOM_PORT")}
    return dict(env, HOME=str(home))


def test_a_wheel_in_a_fresh_venv_serves_a_whole_page(fresh_venv, tmp_path):
    if shutil.which("npm") is None and not any(default_cache_dir().glob("*.tgz")):
        pytest.skip("neither npm nor its tarball cache: `apt-get install npm`")
    bin_dir, static = fresh_venv
    # the npm tarballs from this user's cache (~/.cache/vizlab/npm), the registry for the rest
    env = dict(fresh_env(tmp_path), XDG_CACHE_HOME=str(default_cache_dir().parent.parent))
    where = run(bin_dir / "python", "-c", "import vizlab, visdom; print(vizlab.__file__, visdom.__file__)", env=env)
    assert str(bin_dir.parent) in where.stdout and str(ROOT) not in where.stdout, where
    assert not (static / "js" / "plotly-plotly.min.js").exists()
    port = free_port()
    served = run(bin_dir / "vizlab", "serve", "--detach", "--port", port, env=env)
    try:
        assert served.returncode == 0, served.stderr
        assert "UI files are missing (its page would be blank): installing them" in served.stderr
        assert f"Visdom is running at http://127.0.0.1:{port}" in served.stdout
        loop = run(bin_dir / "python", "-c", README_LOOP, env=dict(env, VISDOM_PORT=str(port)))
        assert loop.returncode == 0, loop.stderr
        assert points(port, "fresh_loop", "loss")["train"] == pytest.approx({s: 1.0 / s for s in range(1, 21)})
        assert window(port, "fresh_loop", "samples")["content"]["src"].startswith("data:image/png")
        session = requests.Session()
        session.trust_env = False
        url = f"http://127.0.0.1:{port}"
        index = session.get(url + "/env/fresh_loop", timeout=30)
        assert index.status_code == 200
        references = [urljoin(url + "/", ref) for ref in _References(index.text).found]
        assert len(references) >= 15 and any("plotly-plotly.min.js" in r for r in references)
        bad = {ref: session.get(ref, timeout=30).status_code for ref in references}
        assert {ref: code for ref, code in bad.items() if code != 200} == {}
    finally:
        run(bin_dir / "vizlab", "serve", "--stop", "--port", port, env=env)


def test_without_npm_cache_or_network_serve_names_the_command(fresh_venv, tmp_path, offline_env):  # noqa: F811
    bin_dir, static = fresh_venv
    env = fresh_env(tmp_path, offline_env)
    port = free_port()
    done = run(bin_dir / "vizlab", "serve", "--detach", "--port", port, env=env)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "its page would be blank" in done.stderr and "Run: vizlab assets install" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 2, done.stderr   # the progress line, then the one error
    with pytest.raises(requests.ConnectionError):
        requests.get(f"http://127.0.0.1:{port}/", timeout=5)   # nothing was started
