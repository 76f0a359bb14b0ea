"""Ports and what answers on them: free ports, probing a URL for Visdom, the ports a process
listens on (Linux's /proc), and ServerError, the one-line error of every server problem.
Re-exported by vizlab.server.process, where callers have always found them."""

import errno
import os
import socket

import requests

from vizlab import protocol
from vizlab.address import DEFAULT_PORT
from vizlab.errors import UserError

LOCAL_HOSTS = ("127.0.0.1", "localhost")


class ServerError(UserError):
    """A problem with a Visdom server the user can fix; the message says how."""


def free_port(host="127.0.0.1"):
    """A TCP port that is free on `host` right now."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def probe(url, timeout=1.0):
    """What answers at `url`: "visdom", "refused" (a vizlab server private to another user), or None.

    Asked through Visdom's API (POST /win_exists answers "true" or "false"), never by a word on
    a page. A --login server is asked again after logging in with VISDOM_USERNAME/PASSWORD.
    """
    from vizlab.connection import Connection

    parts = url.rsplit(":", 1)
    connection = Connection.from_environment(parts[0], int(parts[1]))
    connection.timeout = timeout
    probe_message = {"win": "vizlab-probe", "eid": "vizlab-probe"}
    for attempt in range(2):
        try:
            reply = connection.session.post(url + "/win_exists", json=probe_message, timeout=timeout)
        except requests.RequestException:
            return None
        if reply.status_code == 200 and reply.text in ("true", "false"):
            return "visdom"
        if reply.status_code == 403 and reply.headers.get(protocol.REFUSED_HEADER):
            return "refused"
        if reply.status_code != 400 or not connection.username or attempt:
            return None
        try:
            connection.login()
        except (requests.RequestException, Exception):
            return None
    return None


def is_visdom(url, timeout=1.0):
    """True when a Visdom server that serves us answers at `url` (e.g. http://127.0.0.1:8097)."""
    return probe(url, timeout) == "visdom"


def check_port(port):
    """A ServerError (one line) unless `port` is a port a server can listen on."""
    if not isinstance(port, int) or isinstance(port, bool) or not 1 <= port <= 65535:
        hint = " (0 would let the system choose; vizlab needs a fixed one)" if port == 0 else ""
        raise ServerError(f"--port {port}: a port is a number from 1 to 65535{hint}; "
                          f"choose one such as {DEFAULT_PORT}")


def port_in_use(port, host="127.0.0.1"):
    """True when something already listens on `port` at `host` (so a server there would fail)."""
    with socket.socket() as sock:
        # Like tornado: ignore connections in TIME_WAIT, conflict only with a live listener.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1" if host in LOCAL_HOSTS else host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return True
            raise
    return False


def local_url(port):
    return f"http://127.0.0.1:{port}"


def listening_ports(pid):
    """TCP ports process `pid` listens on, read from Linux's /proc; None where that is unreadable."""
    try:
        fds = os.listdir(f"/proc/{pid}/fd")
        sockets = set()
        for fd in fds:
            try:
                sockets.add(os.readlink(f"/proc/{pid}/fd/{fd}"))
            except OSError:
                pass
        ports = set()
        for table in ("/proc/net/tcp", "/proc/net/tcp6"):
            with open(table) as rows:
                for row in list(rows)[1:]:
                    fields = row.split()
                    if fields[3] == "0A" and f"socket:[{fields[9]}]" in sockets:  # 0A: LISTEN
                        ports.add(int(fields[1].rsplit(":", 1)[1], 16))
        return ports
    except OSError:
        return None
