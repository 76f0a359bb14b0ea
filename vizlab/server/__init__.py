"""Visdom servers: process (start, find and stop them), assets (its UI files, offline), and the
code loaded into the server process: fast_append (appends cost the new points only),
batch_endpoint (many windows per request) and access (who may connect). What the clients share
with those (header names, the token file's place) is vizlab/protocol.py."""

from vizlab.server.process import ServerError, VisdomServer, ensure_server, free_port

__all__ = ["ServerError", "VisdomServer", "ensure_server", "free_port"]
