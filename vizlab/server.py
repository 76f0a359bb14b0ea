"""Start, find and stop Visdom servers (`vizlab serve` and the VisdomServer context manager)."""

import os
import socket
import subprocess
import sys
import tempfile
import time

import requests

DEFAULT_PORT = 8097


def free_port(host="127.0.0.1"):
    """A TCP port that is free on `host` right now."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def is_visdom(url, timeout=1.0):
    """True when a Visdom server answers at `url` (e.g. http://127.0.0.1:8097)."""
    try:
        reply = requests.get(url + "/", timeout=timeout)
    except requests.RequestException:
        return False
    return reply.status_code in (200, 401, 403) and "visdom" in reply.text.lower()


def server_command(port, host="127.0.0.1", env_path=None, login=False, extra=()):
    """argv that runs Visdom's server without its online asset download."""
    code = "import sys; from visdom.server.run_server import main; sys.exit(main())"
    cmd = [sys.executable, "-c", code, "-port", str(port)]
    if host in ("127.0.0.1", "localhost"):
        cmd.append("-bind_local")
    if env_path:
        cmd += ["-env_path", str(env_path)]
    if login:
        cmd.append("-enable_login")
    return cmd + list(extra)


class VisdomServer:
    """A Visdom server in a child process, bound to 127.0.0.1 on a free port by default.

        with VisdomServer() as srv:
            VisdomLogger(env="x", port=srv.port)

    `stop()` and `start()` may be called again (same port) to simulate a restart;
    windows live in memory, so a restarted server is empty.
    """

    def __init__(self, port=None, host="127.0.0.1", env_path=None, login=False,
                 log_path=None, startup_timeout=30.0):
        self.host = host
        self.port = port or free_port(host)
        self._tmp = None
        if env_path is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="vizlab-env-")
            env_path = self._tmp.name
        self.env_path = str(env_path)
        self.login = login
        self.log_path = log_path
        self.startup_timeout = startup_timeout
        self.process = None

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def start(self):
        env = dict(os.environ)
        if self.login:
            env["VISDOM_USE_ENV_CREDENTIALS"] = "1"
        log = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL
        self.process = subprocess.Popen(
            server_command(self.port, self.host, self.env_path, self.login),
            stdout=log, stderr=subprocess.STDOUT, env=env,
        )
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"Visdom server exited with code {self.process.returncode} "
                    f"before answering on port {self.port}"
                    + (f"; see {self.log_path}" if self.log_path else "")
                )
            if is_visdom(self.url, timeout=0.5):
                return self
            time.sleep(0.1)
        self.stop()
        raise TimeoutError(f"Visdom server did not answer on {self.url} within {self.startup_timeout}s")

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        if self._tmp:
            self._tmp.cleanup()


def add_parser(subparsers):
    p = subparsers.add_parser("serve", help="start a Visdom server on 127.0.0.1")
    p.add_argument("--port", type=int, default=DEFAULT_PORT, help="port (default: %(default)s)")
    p.set_defaults(func=_serve)


def _serve(args):
    with VisdomServer(port=args.port, env_path=os.path.expanduser("~/.vizlab/visdom")) as srv:
        print(f"Visdom is running at {srv.url}  (Ctrl-C to stop)")
        srv.process.wait()
    return 0
