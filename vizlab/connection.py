"""HTTP to a Visdom server: posts to `/events`, `/update` and `/win_exists`, with login; and to
vizlab's `/vizlab/batch` (batch_endpoint.py), many windows per request, on servers that have it.

A private server vizlab started on this machine also knows its owner by uid; the token
($VIZLAB_TOKEN, else ~/.vizlab/servers/PORT.token) is sent too when there is one, for a server
reached another way (a tunnel, another host). A stock Visdom server ignores the header.
"""

import hashlib
import json
import os

import requests

from vizlab.access import TOKEN_HEADER, client_token
from vizlab.address import visdom_address
from vizlab.batch_endpoint import HEADER as BATCH_HEADER, PATH as BATCH_PATH

BATCH_BYTES = 1 << 20   # a batch body stays under this (one window alone may pass it)


class ServerRefused(Exception):
    """The server answered, but not with a success."""

    def __init__(self, message, status):
        super().__init__(message)
        self.status = status


class Connection:
    def __init__(self, server, port, username=None, password=None, timeout=(3.0, 30.0)):
        if "://" not in server:
            server = "http://" + server
        self.url = f"{server.rstrip('/')}:{port}"
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
        if reply.status_code != 200:
            raise ServerRefused(f"{self.url}/{endpoint} answered HTTP {reply.status_code}",
                                reply.status_code)
        return reply

    def takes_batches(self):
        """True when the server takes many windows per request (vizlab's server); one GET, which
        stock Visdom (either version) answers with its index page: one window per request there.
        Raises requests.RequestException when unreachable."""
        reply = self.session.get(self.url + BATCH_PATH, timeout=self.timeout)
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
