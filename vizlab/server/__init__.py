"""Visdom servers: process (start, find and stop them), assets (its UI files, offline), and
fast_append (loaded into the server process: appends cost the new points only). The access
checks loaded beside it live in vizlab/access.py, shared with the clients (the token)."""

from vizlab.server.process import ServerError, VisdomServer, ensure_server, free_port

__all__ = ["ServerError", "VisdomServer", "ensure_server", "free_port"]
