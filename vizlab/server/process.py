"""Start, find and stop Visdom servers (`VisdomServer`, `ensure_server`; `vizlab serve` is vizlab.cli.serve).

Servers are always started through `visdom.server.run_server.main`, which never downloads
anything (unlike `python -m visdom.server`); the UI files come from `vizlab assets install`.
"""

import contextlib
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil
import requests

from vizlab import private_files, protocol
from vizlab.address import DEFAULT_PORT
from vizlab.server.ports import (LOCAL_HOSTS, ServerError, check_port, free_port, is_visdom,  # noqa: F401
                                 listening_ports, local_url, port_in_use, probe)   # (re-exported)

DEFAULT_HOST = "127.0.0.1"
DEFAULT_ENV_PATH = "~/.vizlab/visdom"
STATE_DIR = "~/.vizlab"  # logs and pid files of servers started by `vizlab serve`
FAST_APPEND = Path(__file__).resolve().with_name("fast_append.py")  # patches the server child
PAGE_PATCH = Path(__file__).resolve().with_name("page_patch.py")    # serves 0.2.4's page, patched
ACCESS = Path(__file__).resolve().with_name("access.py")            # checks its requests
BATCH = Path(__file__).resolve().with_name("batch_endpoint.py")       # many windows per request
PROTOCOL = Path(__file__).resolve().parent.parent / "protocol.py"   # what the two above share
RUNS_PAGE = Path(__file__).resolve().with_name("runs_page.py")   # /vizlab/runs: the runs table
RUNS_COMPARE = Path(__file__).resolve().with_name("runs_compare.py")   # its runs compared (seed bands)
ACCESS_MODES = ("private", "open", "login")
HELD = {signal.SIGTERM, signal.SIGHUP, signal.SIGINT}   # held while a child is spawned or stopped


def server_command(port, host="127.0.0.1", env_path=None, login=False, extra=(), python=None):
    """argv that runs Visdom's server without its online asset download, with fast appends,
    the batch endpoint and vizlab's access checks (access.py: who may connect, from which origin).

    python: the interpreter whose visdom runs it (default: this one), e.g. a separate venv
    holding another visdom version; the logger only talks HTTP to it. fast_append.py,
    batch_endpoint.py, access.py and protocol.py (theirs and the clients' shared names) are
    loaded by file path because that interpreter may not have vizlab installed, each under the
    name vizlab_FILE (its sys.modules entry: vizlab_protocol, vizlab_batch, what the others import).
    """
    loopback = host in LOCAL_HOSTS
    code = ("import signal, sys, importlib.util as u\n"
            f"signal.pthread_sigmask(signal.SIG_UNBLOCK, {sorted(map(int, HELD))!r})\n"   # see held_signals
            "def load(name, path):\n"
            "    s = u.spec_from_file_location(name, path); m = u.module_from_spec(s)\n"
            "    s.loader.exec_module(m); sys.modules[name] = m; return m\n"
            f"load('vizlab_protocol', {str(PROTOCOL)!r})\n"
            f"load('vizlab_access', {str(ACCESS)!r}).install(loopback_only={loopback!r})\n"
            f"page = load('vizlab_page', {str(PAGE_PATCH)!r}).install()\n"
            f"load('vizlab_fast_append', {str(FAST_APPEND)!r}).install(compact=page)\n"
            f"load('vizlab_batch', {str(BATCH)!r}).install()\n"
            f"load('vizlab_runs_compare', {str(RUNS_COMPARE)!r})\n"
            f"load('vizlab_runs', {str(RUNS_PAGE)!r}).install({port!r})\n"
            "from visdom.server.run_server import main; sys.exit(main())")
    cmd = [python or sys.executable, "-c", code, "-port", str(port)]
    if host in LOCAL_HOSTS:
        cmd.append("-bind_local")
    if env_path:
        cmd += ["-env_path", str(env_path)]
    if login:
        cmd.append("-enable_login")
    return cmd + list(extra)


def login_environment(env):
    """`env` plus what visdom's -enable_login needs to take credentials from the environment."""
    if not (env.get("VISDOM_USERNAME") and env.get("VISDOM_PASSWORD")):
        raise ServerError("--login needs the credentials in the environment: "
                          "export VISDOM_USERNAME=... VISDOM_PASSWORD=... and try again")
    env = dict(env, VISDOM_USE_ENV_CREDENTIALS="1")
    # visdom keeps the cookie secret in ~/.visdom/COOKIE_SECRET whatever -env_path says, and
    # crashes if that folder is missing. It would write a new one with the umask's mode (0644
    # in a 0755 ~/.visdom: anyone who reads it can forge a login), so vizlab writes it 0600.
    home_visdom = Path(env.get("HOME") or os.path.expanduser("~")) / ".visdom"
    home_visdom.mkdir(mode=0o700, parents=True, exist_ok=True)
    secret = home_visdom / "COOKIE_SECRET"
    if not secret.is_file():
        private_files.write_private(secret, env.get("VISDOM_COOKIE") or secrets.token_urlsafe(32))
    else:
        private_files.make_private(secret)
    return env


def check_port_free(port, host):
    check_port(port)
    if port_in_use(port, host):
        raise ServerError(f"port {port} is taken by a program that is not a Visdom server; "
                          f"stop it or choose another port (--port {port + 1})")


def access_environment(env, port, mode):
    """`env` plus what access.py reads in the server: the mode, and for "private" the token file."""
    if mode not in ACCESS_MODES:
        raise ServerError(f"unknown access mode {mode!r}: one of {', '.join(ACCESS_MODES)}")
    env = dict(env, **{protocol.MODE_ENV: mode})
    env.pop(protocol.TOKEN_FILE_ENV, None)
    if mode == "private":
        private_files.server_token(port)   # made (0600) once per port, kept across restarts
        env[protocol.TOKEN_FILE_ENV] = str(protocol.token_path(port))
    return env


def _spawn(port, host, env_path, login, log_path, detach=False, python=None, mode=None):
    env = login_environment(os.environ) if login else dict(os.environ)
    mode = mode or ("login" if login else "private")
    env = access_environment(env, port, mode)
    if mode == "private":   # saved envs: the owner's alone, like the server
        own = Path(env_path).resolve() == Path(os.path.expanduser(DEFAULT_ENV_PATH)).resolve()
        private_files.private_dir(env_path, fix=own)
    else:
        Path(env_path).mkdir(parents=True, exist_ok=True)
    log = private_files.open_append(log_path) if log_path else subprocess.DEVNULL   # 0600
    try:
        return subprocess.Popen(
            server_command(port, host, env_path, login, python=python),
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=env,
            # A detached server gets its own session: Ctrl-C or closing the terminal leaves it alive.
            start_new_session=detach,
        )
    except FileNotFoundError:
        raise ServerError(f"no Python at {python}: pass the path of an interpreter that has visdom "
                          "(e.g. .venv-visdom03/bin/python from `make setup`)") from None
    finally:
        if log_path:
            log.close()


def _wait_until_answers(process, port, timeout, log_path):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ServerError(f"the Visdom server exited with code {process.returncode} "
                              f"before answering on port {port}"
                              + (f"; see {log_path}" if log_path else ""))
        # visdom 0.3 moves to a free port when the asked one is taken (a race with our check):
        # only a server that listens on `port` itself counts, never another one answering there.
        ports = listening_ports(process.pid)
        if ports and port not in ports:
            raise ServerError(f"port {port} was taken, so the Visdom server went to port "
                              f"{min(ports)} instead; stop what uses port {port} or choose another "
                              f"port (--port {port + 1})")
        if (ports is None or port in ports) and is_visdom(local_url(port), timeout=0.5):
            return
        time.sleep(0.1)
    raise ServerError(f"the Visdom server did not answer on {local_url(port)} within {timeout:.0f} s"
                      + (f"; see {log_path}" if log_path else ""))


class VisdomServer:
    """A Visdom server in a child process, bound to 127.0.0.1 on a free port by default.

        with VisdomServer() as srv:
            VisdomLogger(env="x", port=srv.port)

    `stop()` and `start()` may be called again (same port) to simulate a restart;
    windows live in memory, so a restarted server is empty. `python` runs the server with
    another interpreter (and so another visdom version); default: this one.
    """

    def __init__(self, port=None, host="127.0.0.1", env_path=None, login=False,
                 log_path=None, startup_timeout=30.0, python=None, mode=None):
        self.host = host
        self.port = port or free_port("127.0.0.1" if host in LOCAL_HOSTS else host)
        self._tmp = None
        if env_path is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="vizlab-env-")
            env_path = self._tmp.name
        self.env_path = str(env_path)
        self.login = login
        self.log_path = log_path
        self.startup_timeout = startup_timeout
        self.python = python
        self.mode = mode   # access: "private" (default), "open" or "login" (default with login)
        self.process = None
        self._made_token = False

    @property
    def url(self):
        return local_url(self.port)

    def start(self):
        """Start the child and wait until it answers. Whatever ends the wait (a ServerError, a
        signal handler's SystemExit, Ctrl-C) stops the child first: none is left running."""
        # Checked first: otherwise another server on this port would seem to be ours.
        check_port_free(self.port, self.host)
        self._made_token = self._made_token or not protocol.token_path(self.port).exists()
        try:
            with held_signals():
                self.process = _spawn(self.port, self.host, self.env_path, self.login,
                                      self.log_path, python=self.python, mode=self.mode)
            _wait_until_answers(self.process, self.port, self.startup_timeout, self.log_path)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self):
        with held_signals():   # a signal's exception here could leave the child running
            if self.process and self.process.poll() is None:
                self.process.terminate()
                try:
                    self.process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    self.process.kill()
                    self.process.wait()
            self.process = None

    def __enter__(self):
        try:
            return self.start()
        except BaseException:
            self.__exit__()   # the token and the temporary folder go too
            raise

    def __exit__(self, *exc):
        self.stop()
        if self._made_token:   # the token lives as long as the server (restarts keep it)
            protocol.token_path(self.port).unlink(missing_ok=True)
        if self._tmp:
            self._tmp.cleanup()


@contextlib.contextmanager
def held_signals():
    """SIGTERM, SIGHUP and SIGINT wait (blocked) on the main thread until the block ends: a
    handler that raised inside subprocess.Popen would lose the child it started (airtight in a
    process without other threads, such as `vizlab serve`; elsewhere another thread may take
    the signal). The child starts with them blocked and unblocks them first (server_command)."""
    if threading.current_thread() is not threading.main_thread():
        yield   # signal handlers run on the main thread only
        return
    before = signal.pthread_sigmask(signal.SIG_BLOCK, HELD)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, before)


# ---- detached servers: `vizlab serve --detach`, `--stop`, ensure_server() ----

def state_paths(port):
    """(log file, pid file) of the detached server on `port`."""
    state = Path(os.path.expanduser(STATE_DIR))
    return state / f"visdom-{port}.log", state / f"visdom-{port}.pid"


def stop_command(port):
    return "vizlab serve --stop" + ("" if port == DEFAULT_PORT else f" --port {port}")


def start_detached(port=DEFAULT_PORT, host=DEFAULT_HOST, env_path=DEFAULT_ENV_PATH, login=False,
                   timeout=60.0, mode=None):
    """Start a server in the background that outlives this process; returns its URL."""
    check_port_free(port, host)
    log_path, pid_path = state_paths(port)
    private_files.private_dir(log_path.parent)
    process = _spawn(port, host, os.path.expanduser(env_path), login, log_path, detach=True,
                     mode=mode)
    pid_path.write_text(str(process.pid))
    try:
        _wait_until_answers(process, port, timeout, log_path)
    except ServerError:
        stop_detached(port)
        raise
    return local_url(port)


def _is_our_server(pid, written_at):
    """The pid still runs the visdom server whose pid file was written at `written_at`.

    A recycled pid is someone else's: its command line lacks visdom.server, or it started after
    the pid file was written (we write the file right after spawning). psutil works without /proc.
    """
    try:
        process = psutil.Process(pid)
        if process.status() == psutil.STATUS_ZOMBIE:   # exited, not yet reaped: already gone
            return False
        cmdline, created = " ".join(process.cmdline()), process.create_time()
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return False
    # 2 s: psutil dates a process from the boot time, which Linux gives in whole seconds, plus
    # clock ticks (a fresh child dated 1.0x s after the file it wrote was seen once at load 9)
    return "visdom.server" in cmdline and created <= written_at + 2.0


def stop_detached(port=DEFAULT_PORT, timeout=10.0):
    """Stop the server `vizlab serve --detach` started on `port`; False if none was running."""
    _, pid_path = state_paths(port)
    try:
        pid, written_at = int(pid_path.read_text().strip()), pid_path.stat().st_mtime
    except (OSError, ValueError):
        return False
    running = _is_our_server(pid, written_at)  # else a stale pid file: the server died, or a reboot
    if running:
        try:
            # Its own session (start_new_session) makes the pid its process group.
            os.killpg(pid, signal.SIGTERM)
            deadline = time.monotonic() + timeout
            while _is_our_server(pid, written_at) and time.monotonic() < deadline:
                time.sleep(0.1)
            if _is_our_server(pid, written_at):
                os.killpg(pid, signal.SIGKILL)
        except ProcessLookupError:   # it exited on its own meanwhile: stopped all the same
            pass
    pid_path.unlink(missing_ok=True)
    if running:
        protocol.token_path(port).unlink(missing_ok=True)
    return running


def token_url(port):
    """The URL of the runs index (vizlab.landing) that lets this user's browser in (a cookie
    keeps that browser in), or the plain one."""
    from vizlab.landing import INDEX_ENV

    token = protocol.read_token(port)
    return local_url(port) + f"/env/{INDEX_ENV}" + (f"?token={token}" if token else "")


def not_ours(port):
    return ServerError(f"port {port} has a Visdom server started by another user (it refused us); "
                       f"choose another port (--port {port + 1})")


def ensure_server(port=DEFAULT_PORT, host=DEFAULT_HOST, progress=None):
    """(URL, started) of a Visdom server on `port`: the one answering there, else a new detached
    one, its missing UI files installed first (progress(message) hears that)."""
    url = local_url(port)
    found = probe(url)
    if found == "visdom":
        return url, False
    if found == "refused":
        raise not_ours(port)
    from vizlab.server import assets

    assets.ensure(progress)   # no blank page: or an AssetError naming the command to run
    start_detached(port, host)
    from vizlab.server.restore import restore   # the runs it had before: vizlab.server.restore
    restore(port)
    write_index(port)
    return url, True


def write_index(port, shown=None, connection=None):
    """Rewrite the landing index unless the server's envs are `shown`; returns the envs shown."""
    from vizlab import landing
    from vizlab.connection import Connection, ServerRefused

    connection = connection or Connection.from_environment("http://127.0.0.1", port)
    try:
        envs = set(landing.env_list(connection))
        return set(landing.refresh(connection)) if envs != shown else shown
    except (requests.RequestException, ServerRefused, ValueError):
        return shown   # the index is a convenience: the server goes on


def keep_index(server, every=10.0, each_round=None):
    """Wait for the server's process; meanwhile keep the runs index (its own env) listing
    its envs (vizlab.landing), rewritten when the env list changes; each_round() runs first
    every round (vizlab.server.restore.catch_up)."""
    from vizlab.connection import Connection

    connection, shown = Connection.from_environment("http://127.0.0.1", server.port), None
    while True:
        if each_round is not None:
            each_round()
        shown = write_index(server.port, shown, connection)
        try:
            server.process.wait(timeout=every)
            return
        except subprocess.TimeoutExpired:
            pass


