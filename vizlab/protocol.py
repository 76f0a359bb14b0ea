"""What vizlab's clients and the code it loads into a Visdom server agree on: header names, the
batch endpoint's path, and where a private server's token is kept.

Standard library only: vizlab/server/access.py and batch_endpoint.py run inside the server
process, whose Python may not have vizlab installed, and load this file by its path.
"""

import os
from pathlib import Path

MODE_ENV = "VIZLAB_ACCESS_MODE"          # private | open | login
TOKEN_FILE_ENV = "VIZLAB_TOKEN_FILE"     # where the private mode's token is (0600)
TOKEN_HEADER = "X-Vizlab-Token"
REFUSED_HEADER = "X-Vizlab-Refused"      # on every refusal; its value says why (below)
REFUSED_NOT_OWNER = "owner"              # a private server refused someone who is not its owner
REFUSED_ORIGIN = "origin"                # a web page's request (Origin, Referer or Host)
BATCH_PATH = "/vizlab/batch"             # many windows per request (server/batch_endpoint.py)
BATCH_HEADER = "X-Vizlab-Batch"          # on every answer of that endpoint
TOKEN_DIR = "~/.vizlab/servers"          # PORT.token, 0600, in a 0700 folder


def token_path(port):
    return Path(os.path.expanduser(TOKEN_DIR)) / f"{port}.token"


def read_token(port):
    """The token of this user's private server on `port`, or None (no such server, or unreadable)."""
    try:
        return token_path(port).read_text().strip() or None
    except OSError:
        return None


def client_token(port, environ=os.environ):
    """What a client sends: $VIZLAB_TOKEN, else this user's token file for `port`, else None."""
    return environ.get("VIZLAB_TOKEN") or read_token(port)
