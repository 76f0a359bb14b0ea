"""Where the Visdom server is: the one default, and VISDOM_SERVER / VISDOM_PORT over it."""

import os

DEFAULT_SERVER = "http://127.0.0.1"
DEFAULT_PORT = 8097
SERVER_ENV, PORT_ENV = "VISDOM_SERVER", "VISDOM_PORT"


def visdom_address(server=None, port=None, environ=os.environ):
    """(server, port) as given, else $VISDOM_SERVER / $VISDOM_PORT, else http://127.0.0.1:8097."""
    server = server or environ.get(SERVER_ENV) or DEFAULT_SERVER
    if "://" not in server:
        server = "http://" + server          # VISDOM_SERVER=localhost is common
    port = port or environ.get(PORT_ENV) or DEFAULT_PORT
    try:
        port = int(port)
    except (TypeError, ValueError):
        raise ValueError(f"Visdom port {port!r} ({PORT_ENV}?) is not a number; use e.g. {DEFAULT_PORT}") from None
    return server, port


def add_address_options(parser, server=True, environ=os.environ):
    """--server and --port for a command line, their defaults read from the environment (argparse
    converts a string default with `type`, so a bad $VISDOM_PORT is reported as --port's error)."""
    if server:
        parser.add_argument("--server", default=environ.get(SERVER_ENV) or DEFAULT_SERVER,
                            help=f"Visdom server URL (${SERVER_ENV} sets the default; default: %(default)s)")
    parser.add_argument("--port", type=int, default=environ.get(PORT_ENV) or DEFAULT_PORT,
                        help=f"Visdom server port (${PORT_ENV} sets the default; default: %(default)s)")
