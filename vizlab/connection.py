"""HTTP to a Visdom server: posts to `/events`, `/update` and `/win_exists`, with login; and to
vizlab's `/vizlab/batch` (server/batch_endpoint.py), many windows per request, on servers that have it.

A private server vizlab started on this machine also knows its owner by uid; the token
($VIZLAB_TOKEN, else ~/.vizlab/servers/PORT.token) is sent too when there is one, for a server
reached another way (a tunnel, another host). A stock Visdom server ignores the header.
"""

import hashlib
import json
import os
import socket

import requests

from vizlab.address import visdom_address
from vizlab.protocol import (BATCH_HEADER, BATCH_PATH, REFUSED_HEADER, REFUSED_NOT_OWNER, TOKEN_HEADER,
                             client_token)

BATCH_BYTES = 1 << 20   # a batch body stays under this (one window alone may pass it)


class ServerRefused(Exception):
    """The server answered, but not with a success."""

    def __init__(self, message, status):
        super().__init__(message)
        self.status = status


class NotOwner(ServerRefused):
    """A vizlab server private to another user refused us: final, trying again cannot help."""

    def __init__(self, port, sent_token):
        mine = _free_port_after(port)
        why = " (and refused the token we sent)" if sent_token else ""
        super().__init__(f"the Visdom server on port {port} belongs to another user{why}; start your "
                         f"own with `vizlab serve --port {mine}` and use that port (--port {mine} "
                         f"or VISDOM_PORT={mine})", 403)


def _free_port_after(port):
    """The first port after `port` that nothing listens on (127.0.0.1), for the hint."""
    for candidate in range(port + 1, min(port + 100, 65536)):
        with socket.socket() as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind(("127.0.0.1", candidate))
            except OSError:
                continue
            return candidate
    return port + 1


class Connection:
    def __init__(self, server, port, username=None, password=None, timeout=(3.0, 30.0)):
        if "://" not in server:
            server = "http://" + server
        self.url = f"{server.rstrip('/')}:{port}"
        self.port = port
        self.username = username
        # The client protocol: the server compares sha256(sha256(password)); send one round.
        self._password_hash = hashlib.sha256(password.encode()).hexdigest() if password else None
        self.timeout = timeout
        self.session = requests.Session()
        token = client_token(port)
        if token:
            self.session.headers[TOKEN_HEADER] = token

    @classmethod
    def from_environment(cls, server=None, port=None):
        """A connection to server:port (None: $VISDOM_SERVER / $VISDOM_PORT, else the default) with
        the credentials in VISDOM_USERNAME / VISDOM_PASSWORD (never from code)."""
        server, port = visdom_address(server, port)
        return cls(server, port, os.environ.get("VISDOM_USERNAME"), os.environ.get("VISDOM_PASSWORD"))

    def login(self):
        reply = self.session.post(self.url + "/", json={"username": self.username,
                                                        "password": self._password_hash},
                                  timeout=self.timeout)
        self._final(reply)
        if reply.status_code != 200:
            raise ServerRefused(f"login as {self.username!r} refused by {self.url} "
                                "(check VISDOM_USERNAME/VISDOM_PASSWORD)", 400)

    def post(self, endpoint, message):
        """Reply text; raises requests.RequestException when unreachable, ServerRefused on 4xx/5xx."""
        return self._send(endpoint, _dumps(message)).text

    def _send(self, endpoint, body):
        reply = self.session.post(f"{self.url}/{endpoint}", data=body, timeout=self.timeout)
        if reply.status_code == 400 and self.username:
            self.login()  # first request, or the server restarted with a new cookie secret
            reply = self.session.post(f"{self.url}/{endpoint}", data=body, timeout=self.timeout)
        if reply.status_code == 400 and not self.username:
            raise ServerRefused(f"{self.url} requires a login: set VISDOM_USERNAME and VISDOM_PASSWORD", 400)
        self._final(reply)
        if reply.status_code != 200:
            raise ServerRefused(f"{self.url}/{endpoint} answered HTTP {reply.status_code}",
                                reply.status_code)
        return reply

    def _final(self, reply):
        """Raise NotOwner when another user's private vizlab server refused us."""
        if reply.status_code == 403 and reply.headers.get(REFUSED_HEADER) == REFUSED_NOT_OWNER:
            raise NotOwner(self.port, TOKEN_HEADER in self.session.headers)

    def takes_batches(self):
        """True when the server takes many windows per request (vizlab's server); one GET, which
        stock Visdom (either version) answers with its index page: one window per request there.
        Raises requests.RequestException when unreachable."""
        reply = self.session.get(self.url + BATCH_PATH, timeout=self.timeout)
        self._final(reply)
        return reply.status_code == 200 and reply.headers.get(BATCH_HEADER) == "1"

    def post_batch(self, items):
        """[(endpoint, message)] through /vizlab/batch: [(status, reply text)] per item, in order.
        Raises as post() does for the request itself (then nothing is known of any item)."""
        parts = [f'["{endpoint}",{_dumps(message)}]' for endpoint, message in items]
        replies, start = [], 0
        while start < len(parts):
            end, size = start + 1, len(parts[start])
            while end < len(parts) and size + len(parts[end]) < BATCH_BYTES:
                size += len(parts[end]) + 1
                end += 1
            body = '{"requests":[' + ",".join(parts[start:end]) + "]}"
            answer = _pairs(self._send(BATCH_PATH.lstrip("/"), body).text)
            if answer is None or len(answer) != end - start:
                raise ServerRefused(f"{self.url}{BATCH_PATH} answered something else than one reply "
                                    "per window", 502)
            replies += answer
            start = end
        return replies


def _pairs(text):
    """[(status, text)] of a batch reply, or None when it is not one."""
    try:
        return [(int(status), str(reply)) for status, reply in json.loads(text)]
    except (ValueError, TypeError):
        return None


def _dumps(message):
    return json.dumps(message, separators=(",", ":"))
