"""`vizlab serve` and the server helpers, against real Visdom servers and real sockets."""

import http.server
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests
from visdom import Visdom

from vizlab.server.assets import VERSION_FILE, assets_for, default_cache_dir, missing_files
from vizlab.cli import main
from vizlab.cli.serve import describe
from vizlab.server.process import ensure_server, free_port, is_visdom, state_paths, stop_detached

pytestmark = pytest.mark.server   # starts or needs a real Visdom server

NPM_CACHE = default_cache_dir()   # this user's, read before a test's private HOME


@pytest.fixture
def home(tmp_path, monkeypatch):
    """A private HOME (for this process and the CLI's) so ~/.vizlab and ~/.visdom stay in tmp.

    Yields the list to which tests add the ports of detached servers; they are stopped afterwards.
    """
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    (tmp_path / "home").mkdir()
    ports = []
    yield ports
    for port in ports:
        stop_detached(port)


def vizlab(*args, env=None, timeout=120):
    """The real `vizlab` command in a child process (where its exit or environment matters)."""
    return subprocess.run([sys.executable, "-m", "vizlab.cli", *args], capture_output=True,
                          text=True, env=env, timeout=timeout)


@pytest.fixture
def cli(capsys):
    """The same command line in-process: `import vizlab` costs seconds (torch), so most tests
    call `vizlab.cli.main` directly. Returns (exit code, stdout, stderr)."""
    def run(*args):
        code = main(list(args))
        out, err = capsys.readouterr()
        return code, out, err
    return run


def wait_until(predicate, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def client(port, **kwargs):
    return Visdom(port=port, use_incoming_socket=False, raise_exceptions=True, **kwargs)


def test_reuses_a_running_server(visdom_server, home, cli):
    code, out, err = cli("serve", "--port", str(visdom_server.port))
    assert code == 0, err
    assert "already running" in out
    assert is_visdom(visdom_server.url)


class _PlainHTTP(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"hello, not a dashboard")

    def log_message(self, *args):
        pass


@pytest.fixture(params=["raw-socket", "http-server"])
def foreign_listener(request):
    """A port held by something that is not Visdom: a bare listening socket or an HTTP server."""
    if request.param == "raw-socket":
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]
        sock.close()
    else:
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _PlainHTTP)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        yield server.server_address[1]
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("detach", [False, True])
def test_refuses_a_port_taken_by_another_program(foreign_listener, detach, home, cli):
    code, _, err = cli("serve", "--port", str(foreign_listener), *(["--detach"] if detach else []))
    assert code != 0
    assert f"port {foreign_listener} is taken" in err
    assert "--port" in err and "Traceback" not in err


def test_detach_then_stop(home, cli):
    port = free_port()
    home.append(port)
    done = vizlab("serve", "--detach", "--port", str(port))
    assert done.returncode == 0, done.stderr
    log_path, pid_path = state_paths(port)
    assert f"http://127.0.0.1:{port}" in done.stdout
    assert str(log_path) in done.stdout and f"vizlab serve --stop --port {port}" in done.stdout
    # The CLI has exited; the server lives on and works.
    assert is_visdom(f"http://127.0.0.1:{port}") and pid_path.is_file()
    viz = client(port)
    viz.text("detached", win="note", env="serve_detach")
    assert json.loads(viz.get_window_data("note", env="serve_detach"))["content"] == "detached"

    code, out, err = cli("serve", "--stop", "--port", str(port))
    assert code == 0, err
    assert "stopped" in out
    assert wait_until(lambda: not is_visdom(f"http://127.0.0.1:{port}"))
    assert not pid_path.exists()
    code, out, _ = cli("serve", "--stop", "--port", str(port))
    assert code == 0 and "no Visdom server" in out


def test_foreground_serve_stops_on_ctrl_c(home):
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "vizlab.cli", "serve", "--port", str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        first = proc.stdout.readline()
        assert f"Visdom is running at http://127.0.0.1:{port}" in first
        assert is_visdom(f"http://127.0.0.1:{port}")
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)
        assert not is_visdom(f"http://127.0.0.1:{port}")
    finally:
        proc.kill()
        proc.wait()


def _other_address():
    """A non-loopback IPv4 address of this machine, or None."""
    address = socket.gethostbyname(socket.gethostname())
    if not address.startswith("127."):
        return address
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.123", 9))  # UDP connect sends nothing; it just picks a route
        except OSError:
            return None
        address = probe.getsockname()[0]
    return None if address.startswith("127.") or address == "0.0.0.0" else address


def _answers_at(address, port):
    try:
        with socket.create_connection((address, port), timeout=3):
            return True
    except OSError:
        return False


def test_binds_loopback_by_default_and_everywhere_only_when_asked(home, cli):
    other = _other_address()
    if other is None:
        pytest.skip("this machine has no non-loopback IPv4 address to test against")
    local_port, shared_port = free_port(), free_port()
    home.extend([local_port, shared_port])

    code, _, err = cli("serve", "--detach", "--port", str(local_port))
    assert code == 0, err
    assert _answers_at("127.0.0.1", local_port)
    assert not _answers_at(other, local_port)

    # Positive control: the other address does reach a server that was asked to share.
    code, _, err = cli("serve", "--detach", "--host", "0.0.0.0", "--port", str(shared_port))
    assert code == 0, err
    assert "ALL network interfaces" in err
    assert _answers_at(other, shared_port)


def test_login_rejects_anonymous_and_accepts_credentials(home):
    port = free_port()
    home.append(port)
    password = "pw-" + os.urandom(6).hex()
    env = dict(os.environ, VISDOM_USERNAME="alice", VISDOM_PASSWORD=password)
    done = vizlab("serve", "--detach", "--login", "--port", str(port), env=env)
    assert done.returncode == 0, done.stderr
    assert password not in done.stdout + done.stderr

    # Anonymous: the page is the login form and posting a window is refused.
    anonymous = requests.get(f"http://127.0.0.1:{port}/", timeout=5)
    assert "Visdom Login" in anonymous.text
    refused = requests.post(f"http://127.0.0.1:{port}/events", timeout=5,
                            json={"eid": "serve_login", "win": "w", "data": [], "layout": {}})
    assert refused.status_code == 400
    assert not client(port).check_connection()

    with pytest.raises(RuntimeError, match="Authentication failed"):
        client(port, username="alice", password="wrong").check_connection()

    viz = client(port, username="alice", password=password)
    assert viz.check_connection()
    viz.text("only for alice", win="secret", env="serve_login")
    assert json.loads(viz.get_window_data("secret", env="serve_login"))["content"] == "only for alice"
    assert password not in state_paths(port)[0].read_text()


def test_login_without_credentials_is_a_clear_error(home, cli, monkeypatch):
    monkeypatch.delenv("VISDOM_USERNAME", raising=False)
    monkeypatch.setenv("VISDOM_PASSWORD", "")
    port = free_port()
    code, _, err = cli("serve", "--login", "--detach", "--port", str(port))
    assert code != 0
    assert "VISDOM_USERNAME" in err and "VISDOM_PASSWORD" in err
    assert not is_visdom(f"http://127.0.0.1:{port}")


def test_ensure_server_starts_once_then_reuses(home):
    port = free_port()
    home.append(port)
    url, started = ensure_server(port=port)
    assert started and url == f"http://127.0.0.1:{port}" and is_visdom(url)
    said = describe(port, state_paths(port)[0])
    assert url in said and "vizlab serve --stop" in said and str(state_paths(port)[0]) in said

    assert ensure_server(port=port) == (url, False)
    viz = client(port)
    viz.text("ensured", win="w", env="serve_ensure")
    assert json.loads(viz.get_window_data("w", env="serve_ensure"))["content"] == "ensured"


def test_installs_missing_ui_files_first(home, tmp_path):
    """With a visdom install that lacks its UI files, serve installs them (here from this user's
    npm tarball cache), then starts (tests/test_fresh_install.py: from a wheel, and offline)."""
    import visdom

    site = tmp_path / "site"
    shutil.copytree(Path(visdom.__file__).parent, site / "visdom")
    for rel in [rel for rel, *_ in assets_for()] + [VERSION_FILE]:
        (site / "visdom" / "static" / rel).unlink(missing_ok=True)
    port = free_port()
    home.append(port)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(site), str(Path(__file__).parent.parent)]),
               XDG_CACHE_HOME=str(NPM_CACHE.parent.parent))
    done = vizlab("serve", "--detach", "--port", str(port), env=env)
    assert done.returncode == 0, done.stderr
    assert "UI files are missing (its page would be blank): installing them" in done.stderr
    assert not missing_files(site / "visdom" / "static", site / "visdom")
    assert is_visdom(f"http://127.0.0.1:{port}")


def test_stop_with_a_stale_pid_file_says_nothing_runs(home, cli):
    port = free_port()
    _, pid_path = state_paths(port)
    pid_path.parent.mkdir(parents=True)
    # The recorded pid now belongs to another program (pids get reused): it must not be killed.
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"],
                             start_new_session=True)
    try:
        pid_path.write_text(str(other.pid))
        code, out, _ = cli("serve", "--stop", "--port", str(port))
        assert code == 0 and "no Visdom server" in out
        assert not pid_path.exists() and other.poll() is None
    finally:
        other.kill()
        other.wait()


def test_demo_refuses_a_port_held_by_something_else_without_a_traceback(capsys):
    from vizlab.cli import main

    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        assert main(["demo", "--port", str(port), "--only", "linear_regression"]) == 1
    err = capsys.readouterr().err
    assert f"port {port} is taken" in err and "Traceback" not in err

