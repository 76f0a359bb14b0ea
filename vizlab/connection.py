"""HTTP to a Visdom server: posts to `/events`, `/update` and `/win_exists`, with login.

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
        body = json.dumps(message, separators=(",", ":"))
        reply = self.session.post(f"{self.url}/{endpoint}", data=body, timeout=self.timeout)
        if reply.status_code == 400 and self.username:
            self.login()  # first request, or the server restarted with a new cookie secret
            reply = self.session.post(f"{self.url}/{endpoint}", data=body, timeout=self.timeout)
        if reply.status_code == 400 and not self.username:
            raise ServerRefused(f"{self.url} requires a login: set VISDOM_USERNAME and VISDOM_PASSWORD", 400)
        if reply.status_code != 200:
            raise ServerRefused(f"{self.url}/{endpoint} answered HTTP {reply.status_code}",
                                reply.status_code)
        return reply.text
