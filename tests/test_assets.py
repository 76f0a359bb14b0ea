"""`vizlab assets`: real npm tarballs, a private copy of the visdom package, a real
`python -m visdom.server` started offline (no npm on PATH, proxies pointing at a dead port)."""

import os
import shutil
import subprocess
import sys
import time
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin

import pytest
import requests

from vizlab.server.assets import VERSION_FILE, assets_for, visdom_dir_of, visdom_version
from vizlab.cli import main
from vizlab.server.process import free_port

pytestmark = pytest.mark.server   # starts or needs a real Visdom server

ASSETS = assets_for()
ASSET_PATHS = [rel for rel, *_ in ASSETS]
REPO = Path(__file__).resolve().parent.parent
PYTHON03 = os.environ.get("VIZLAB_VISDOM03_PYTHON") or str(REPO / ".venv-visdom03" / "bin" / "python")


def vizlab(*args, env=None):
    """The real `vizlab` command in a child process (where its environment matters)."""
    return subprocess.run([sys.executable, "-m", "vizlab.cli", *args], capture_output=True,
                          text=True, env=env, timeout=300)


@pytest.fixture
def cli(capsys):
    """The same command line in-process (`import vizlab` costs seconds: torch).
    Returns (exit code, stdout, stderr)."""
    def run(*args):
        code = main(list(args))
        out, err = capsys.readouterr()
        return code, out, err
    return run


@pytest.fixture(scope="session")
def asset_source(tmp_path_factory):
    """A folder made by `vizlab assets download` (npm; tarballs come from the per-user cache)."""
    if shutil.which("npm") is None:
        pytest.skip("npm is not installed: `apt-get install npm` to run the npm download test")
    folder = tmp_path_factory.mktemp("assets-download")
    done = vizlab("assets", "download", str(folder))
    assert done.returncode == 0, done.stderr
    assert "install --from" in done.stdout
    return folder


@pytest.fixture
def offline_env(tmp_path):
    """An environment with no npm on PATH and every proxy pointing at a closed port."""
    empty_bin = tmp_path / "empty-bin"
    empty_bin.mkdir()
    dead = f"http://127.0.0.1:{free_port()}"
    return dict(os.environ, PATH=str(empty_bin), HTTP_PROXY=dead, HTTPS_PROXY=dead,
                http_proxy=dead, https_proxy=dead, ALL_PROXY=dead, NO_PROXY="",
                npm_config_registry=dead, XDG_CACHE_HOME=str(tmp_path / "empty-cache"))


@pytest.fixture
def bare_visdom(tmp_path):
    """A private copy of the installed visdom package without any UI files (like a fresh pip
    install), so tests never touch the shared venv. Returns (PYTHONPATH dir, its static/)."""
    import visdom

    site = tmp_path / "site"
    shutil.copytree(Path(visdom.__file__).parent, site / "visdom",
                    ignore=shutil.ignore_patterns("__pycache__"))
    static = site / "visdom" / "static"
    for rel in ASSET_PATHS + [VERSION_FILE]:
        (static / rel).unlink(missing_ok=True)
    return site, static


def test_download_writes_every_file_from_npm(asset_source):
    for rel in ASSET_PATHS:
        assert (asset_source / rel).stat().st_size > 0, rel
    assert (asset_source / "js/jquery.min.js").read_text().startswith("/*! jQuery v3.1.1")
    assert b"Plotly" in (asset_source / "js/plotly-plotly.min.js").read_bytes()[:2000]
    # The font file keeps visdom's odd name (with its URL fragment) and is a real SVG font.
    svg = asset_source / "fonts/glyphicons-halflings-regular.svg#glyphicons_halflingsregular"
    assert b"<svg" in svg.read_bytes()


def test_status_install_from_dir_offline_and_idempotent(asset_source, bare_visdom, offline_env, cli):
    _, static = bare_visdom
    code, out, _ = cli("assets", "status", "--static-dir", str(static))
    assert code == 1
    assert "js/plotly-plotly.min.js" in out and VERSION_FILE in out
    assert "vizlab assets install" in out

    done = vizlab("assets", "install", "--from", str(asset_source), "--static-dir", str(static),
                  env=offline_env)
    assert done.returncode == 0, done.stderr
    assert f"all {len(ASSETS)} files of visdom {visdom_version()} present" in done.stdout
    assert (static / VERSION_FILE).read_text() == visdom_version()
    for rel in ASSET_PATHS:
        assert (static / rel).read_bytes() == (asset_source / rel).read_bytes(), rel
    assert cli("assets", "status", "--static-dir", str(static))[0] == 0

    # Delete one file: status names it and exits 1; install restores exactly that file.
    victim = static / "js/react-dom.min.js"
    victim.unlink()
    kept = static / "js/jquery.min.js"
    kept_mtime = kept.stat().st_mtime_ns
    code, out, _ = cli("assets", "status", "--static-dir", str(static))
    assert code == 1 and "js/react-dom.min.js" in out
    assert "jquery" not in out
    restored = vizlab("assets", "install", "--from", str(asset_source), "--static-dir", str(static),
                      env=offline_env)
    assert restored.returncode == 0, restored.stderr
    assert "installed 1 file(s)" in restored.stdout
    assert victim.read_bytes() == (asset_source / "js/react-dom.min.js").read_bytes()
    assert kept.stat().st_mtime_ns == kept_mtime

    code, out, _ = cli("assets", "install", "--static-dir", str(static))
    assert code == 0 and f"all {len(ASSETS)} files of visdom {visdom_version()} present" in out


def test_a_stale_version_file_counts_as_missing(asset_source, bare_visdom, cli):
    """visdom re-downloads everything when version.built differs, so status must flag it."""
    _, static = bare_visdom
    assert cli("assets", "install", "--from", str(asset_source), "--static-dir", str(static))[0] == 0
    (static / VERSION_FILE).write_text("0.0.1")
    code, out, _ = cli("assets", "status", "--static-dir", str(static))
    assert code == 1 and VERSION_FILE in out
    code, _, err = cli("assets", "install", "--static-dir", str(static))
    assert code == 0, err
    assert (static / VERSION_FILE).read_text() == visdom_version()


def test_npm_install_fills_an_empty_static_dir(asset_source, tmp_path, cli):
    static = tmp_path / "static"
    code, _, err = cli("assets", "install", "--static-dir", str(static))
    assert code == 0, err
    for rel in ASSET_PATHS:
        assert (static / rel).read_bytes() == (asset_source / rel).read_bytes(), rel


def test_offline_without_npm_or_source_says_what_to_do(bare_visdom, offline_env):
    _, static = bare_visdom
    done = vizlab("assets", "install", "--static-dir", str(static), env=offline_env)
    assert done.returncode != 0
    assert "npm" in done.stderr and "vizlab assets download DIR" in done.stderr
    assert "install --from DIR" in done.stderr and "Traceback" not in done.stderr
    assert not (static / VERSION_FILE).exists()


def test_npm_with_an_unreachable_registry_fails_clearly(bare_visdom, tmp_path, cli, monkeypatch):
    if shutil.which("npm") is None:
        pytest.skip("npm is not installed")
    _, static = bare_visdom
    cache = tmp_path / "cache"
    monkeypatch.setenv("npm_config_registry", f"http://127.0.0.1:{free_port()}/")
    monkeypatch.setenv("npm_config_cache", str(tmp_path / "npm-cache"))
    code, _, err = cli("assets", "install", "--static-dir", str(static), "--cache-dir", str(cache))
    assert code != 0
    assert "npm pack" in err and "ECONNREFUSED" in err and "install --from DIR" in err
    assert list(cache.iterdir()) == []  # no half-downloaded tarball left to trust next time
    assert not (static / VERSION_FILE).exists()


def test_install_from_an_incomplete_folder_names_the_gaps(bare_visdom, tmp_path, cli):
    _, static = bare_visdom
    partial = tmp_path / "partial"
    (partial / "js").mkdir(parents=True)
    (partial / "js/jquery.min.js").write_text("/* jquery */")
    code, _, err = cli("assets", "install", "--from", str(partial), "--static-dir", str(static))
    assert code != 0
    assert "js/plotly-plotly.min.js" in err and "vizlab assets download" in err
    assert not (static / VERSION_FILE).exists()


class _References(HTMLParser):
    """src/href of every tag (HTMLParser skips comments, as a browser does)."""

    def __init__(self, html):
        super().__init__()
        self.found = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.found += [value for name, value in attrs if name in ("src", "href") and value]


def serve_offline_and_fetch_every_file(python, site, static, offline_env, tmp_path, not_served=()):
    """Plain `python -m visdom.server` from the visdom copy in `site`, downloads impossible:
    it must start, serve `/` and every file the page references with 200, and try no download."""
    # Proves the server below uses this copy of visdom, not the venv's.
    (static / "vizlab-sentinel.txt").write_text("copy")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log_path = tmp_path / "visdom.log"
    env = dict(offline_env, PYTHONPATH=str(site))
    with open(log_path, "wb") as log:
        server = subprocess.Popen(
            [python, "-m", "visdom.server", "-bind_local", "-port", str(port),
             "-env_path", str(tmp_path / "env")],
            stdout=log, stderr=subprocess.STDOUT, env=env, cwd=tmp_path)
    session = requests.Session()
    session.trust_env = False  # the test itself talks to 127.0.0.1 directly
    try:
        deadline = time.monotonic() + 60
        index = None
        while time.monotonic() < deadline and server.poll() is None:
            try:
                index = session.get(url + "/", timeout=2)
                break
            except requests.ConnectionError:
                time.sleep(0.1)
        output = log_path.read_text()
        assert server.poll() is None, f"visdom.server died:\n{output}"
        assert index is not None and index.status_code == 200
        assert session.get(url + "/static/vizlab-sentinel.txt", timeout=5).text == "copy"

        references = [urljoin(url + "/", ref) for ref in _References(index.text).found]
        assert len(references) >= 15 and any("plotly-plotly.min.js" in r for r in references)
        for ref in references:
            assert ref.startswith(url + "/"), f"the page loads {ref} from another host"
            if ref in [urljoin(url + "/", path) for path in not_served]:
                continue
            reply = session.get(ref, timeout=10)
            assert reply.status_code == 200, f"{ref}: {reply.status_code}"
    finally:
        server.terminate()
        server.wait(timeout=10)
    output = log_path.read_text()
    assert "Downloading scripts" not in output
    assert "while downloading" not in output and "Traceback" not in output


def test_plain_visdom_server_starts_offline_and_serves_every_file(asset_source, bare_visdom,
                                                                   offline_env, tmp_path):
    site, static = bare_visdom
    done = vizlab("assets", "install", "--from", str(asset_source), "--static-dir", str(static),
                  env=offline_env)
    assert done.returncode == 0, done.stderr
    serve_offline_and_fetch_every_file(sys.executable, site, static, offline_env, tmp_path)


@pytest.fixture
def visdom03_copy(tmp_path):
    """A private copy of visdom 0.3's package (from .venv-visdom03) without UI files, and its
    interpreter. Skips where that venv is missing (`make setup` builds it where python3.12 exists)."""
    if not os.access(PYTHON03, os.X_OK):
        pytest.skip(f"no visdom 0.3 venv at {PYTHON03}: run `make setup` on a machine with python3.12")
    source = visdom_dir_of(PYTHON03)
    assert visdom_version(source).startswith("0.3"), f"{PYTHON03} has visdom {visdom_version(source)}"
    site = tmp_path / "site03"
    shutil.copytree(source, site / "visdom", ignore=shutil.ignore_patterns("__pycache__"))
    static = site / "visdom" / "static"
    for rel in [rel for rel, *_ in assets_for(source)] + [VERSION_FILE]:
        (static / rel).unlink(missing_ok=True)
    return PYTHON03, site, static


def test_visdom03_download_install_from_and_serve_offline(visdom03_copy, offline_env, tmp_path, cli):
    """visdom 0.3 asks for other files than 0.2.4 (MathJax 3, newer grid CSS): all come from
    its own build.py, and its plain server then starts with downloads impossible."""
    if shutil.which("npm") is None:
        pytest.skip("npm is not installed: `apt-get install npm` to run the npm download test")
    python, site, static = visdom03_copy
    wanted = [rel for rel, *_ in assets_for(site / "visdom")]
    assert "js/mathjax/3.2.2/es5/tex-mml-svg.js" in wanted and not any("2.7.5" in r for r in wanted)

    code, out, _ = cli("assets", "status", "--static-dir", str(static))
    assert code == 1 and "js/mathjax/3.2.2/es5/tex-mml-svg.js" in out and "visdom 0.3" in out

    source = tmp_path / "assets03"
    code, out, err = cli("assets", "download", str(source), "--visdom-dir", str(site / "visdom"))
    assert code == 0, err
    assert b'"3.2.2"' in (source / "js/mathjax/3.2.2/es5/tex-mml-svg.js").read_bytes()  # its VERSION
    done = vizlab("assets", "install", "--from", str(source), "--static-dir", str(static), env=offline_env)
    assert done.returncode == 0, done.stderr
    assert f"all {len(wanted)} files of visdom 0.3" in done.stdout
    assert cli("assets", "status", "--static-dir", str(static))[0] == 0

    # A stale version.built: visdom 0.3 would re-download everything, so status must say so.
    (static / VERSION_FILE).write_text("0.2.4")
    code, out, _ = cli("assets", "status", "--static-dir", str(static))
    assert code == 1 and VERSION_FILE in out
    assert cli("assets", "install", "--static-dir", str(static))[0] == 0

    # 0.3 links a favicon.png that it neither ships nor downloads (404 online too; 0.2.4 answers
    # any unknown path with the page).
    serve_offline_and_fetch_every_file(python, site, static, offline_env, tmp_path,
                                       not_served=["favicon.png"])
