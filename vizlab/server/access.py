"""Who may talk to a Visdom server vizlab starts: its owner, and no web page (issues 19, 28).

Loaded by file path into the server process (`vizlab.server.process.server_command`) next to
fast_append.py, so it imports only the standard library, tornado and vizlab/protocol.py (loaded
the same way). `install()` wraps every handler's `prepare` (tornado runs it before each request,
WebSocket handshakes included):

- Host: on a server bound to 127.0.0.1 the Host header must name the loopback (a page that
  rebinds its own name to 127.0.0.1 is refused).
- Origin: a request whose Origin (or, for a write, Referer) is present and not the server's own
  is refused, in every mode. Python clients send neither.
- Owner only (mode "private", the default): a request passes when it carries the server's token
  (header X-Vizlab-Token, or ?token=), or when it comes over the loopback from a socket owned by
  the server's own uid (Linux's /proc/net/tcp says whose each socket is), or when it carries the
  cookie the token URL set for that same browser. Modes "open" (plain Visdom) and "login"
  (Visdom's own login decides) skip this part.
- The cookie never holds the token. Browsers send a cookie to every port of its host, so a page
  that another user serves on another port receives it; what it holds is bound to whoever
  opened the token URL (their uid over the loopback, else their address), and is refused from
  anyone else (docs/server.md, "The browser's cookie").

It also keeps the log clean: the token never appears in a log line, and refused requests are
counted, not logged one by one (the first of a minute with its reason, then the count).
"""

import hmac
import ipaddress
import logging
import os
import re
import sys
import time
from urllib.parse import urlencode, urlsplit, parse_qsl

if __package__:   # imported as vizlab.server.access
    from vizlab import protocol
else:             # loaded by file path into the server (server_command loads protocol.py first)
    import vizlab_protocol as protocol

LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1")
_TABLES = {4: "/proc/net/tcp", 6: "/proc/net/tcp6"}
REFUSAL_WINDOW = 60.0   # seconds: refused requests are logged as one count per window
NOT_OWNER = "this Visdom server is private to its owner"


def cookie_name(port):
    return f"vizlab-{port}"   # one name per server (cookies ignore ports, names do not)


def old_cookie_name(port):
    return f"vizlab-token-{port}"   # before issue 28 it held the token itself: cleared when seen


def _hex_address(host, port):
    """An address as /proc/net/tcp writes it: the IP's 32-bit words in host order, then the port."""
    packed = ipaddress.ip_address(host).packed
    words = [packed[i:i + 4][::-1].hex().upper() for i in range(0, len(packed), 4)]
    return "".join(words) + f":{port:04X}"


def socket_uid(local, remote, version):
    """uid owning the socket whose local end is `local` and remote end `remote`; None if unseen."""
    want_local, want_remote = _hex_address(*local[:2]), _hex_address(*remote[:2])
    try:
        with open(_TABLES[version]) as rows:
            next(rows)
            for row in rows:
                fields = row.split()
                if fields[1] == want_local and fields[2] == want_remote:
                    return int(fields[7])
    except (OSError, ValueError, IndexError, StopIteration):
        return None
    return None


def peer_uid(stream):
    """uid of the process at the other end of a loopback TCP connection, else None."""
    try:
        sock = stream.socket
        peer, ours = sock.getpeername(), sock.getsockname()
        if not ipaddress.ip_address(peer[0]).is_loopback:
            return None
        return socket_uid(peer, ours, 6 if ":" in peer[0] else 4)
    except (OSError, AttributeError, ValueError):
        return None


def _host_only(netloc):
    host = netloc.rsplit("]", 1)[0].lstrip("[") if netloc.startswith("[") else netloc.split(":")[0]
    return host.lower()


class Policy:
    def __init__(self, mode, token=None, loopback_only=True, uid=None):
        self.mode = mode
        self.token = token
        self.loopback_only = loopback_only
        self.uid = os.getuid() if uid is None else uid

    def problem(self, handler):
        """(kind, reason) why this request is refused, kind one of protocol.REFUSED_*; or None
        to let it through."""
        request = handler.request
        host = request.headers.get("Host", "")
        if self.loopback_only and _host_only(host) not in LOOPBACK_NAMES:
            return protocol.REFUSED_ORIGIN, f"Host {host[:80]!r} is not this server's"
        origin = request.headers.get("Origin")
        if origin is None and request.method not in ("GET", "HEAD"):
            referer = request.headers.get("Referer")
            if referer:
                parts = urlsplit(referer)
                origin = f"{parts.scheme}://{parts.netloc}"
        if origin is not None and urlsplit(origin).netloc.lower() != host.lower():
            return protocol.REFUSED_ORIGIN, f"cross-origin request from {origin[:80]!r}"
        if self.mode == "private" and not self.is_owner(handler):
            return protocol.REFUSED_NOT_OWNER, NOT_OWNER
        return None

    def is_owner(self, handler):
        request = handler.request
        given = request.headers.get(protocol.TOKEN_HEADER) or handler.get_query_argument("token", None)
        if given and self.is_token(given):
            return True
        kind, who = self.peer(handler)
        if kind == "uid" and who == str(self.uid):
            return True
        cookie = handler.get_cookie(cookie_name(_port_of(request)))
        if not (cookie and self.token):
            return False
        return hmac.compare_digest(cookie.encode(), self.cookie_value(handler).encode())

    def is_token(self, given):
        return bool(self.token) and hmac.compare_digest(given.encode(), self.token.encode())

    def peer(self, handler):
        """("uid", N) for a loopback peer whose socket's owner is known, else ("ip", address).
        Once per TCP connection (tornado keeps the stream across its requests): reading
        /proc/net/tcp costs ~1 ms and more on a busy machine."""
        stream = getattr(handler.request.connection, "stream", None)
        uid = getattr(stream, "_vizlab_uid", False)
        if uid is False:
            uid = peer_uid(stream)
            try:
                stream._vizlab_uid = uid
            except AttributeError:
                pass
        return ("uid", str(uid)) if uid is not None else ("ip", handler.request.remote_ip or "")

    def cookie_value(self, handler):
        """What the cookie of the peer of `handler` holds: whom it was given to, and an HMAC of
        that under the token. Another peer (another uid, another address) cannot use it."""
        kind, who = self.peer(handler)
        binding = f"{kind}.{who}"
        mac = hmac.new(self.token.encode(), f"vizlab-cookie|{_port_of(handler.request)}|{binding}".encode(),
                       "sha256").hexdigest()
        return f"{binding}.{mac}"


def _port_of(request):
    return request.host.rsplit(":", 1)[-1]


def _refuse(handler, kind, reason):
    """403 with a fixed status line (the reason may quote a header: it goes only in the body)."""
    handler.clear()
    handler.set_status(403)
    handler.set_header(protocol.REFUSED_HEADER, kind)
    handler.set_header("Content-Type", "text/plain; charset=utf-8")
    handler._vizlab_refused = reason   # counted, not logged one by one (Refusals)
    handler.finish(f"vizlab: refused: {reason}\n")


def _token_url_cookie(handler, policy):
    """GET ?token=...: set the cookie bound to this browser's peer and send the browser to the
    same URL without the token."""
    request = handler.request
    if request.method != "GET" or "token" not in request.query_arguments or not policy.token:
        return False
    if not policy.is_token(handler.get_query_argument("token")):
        return False
    handler.set_cookie(cookie_name(_port_of(request)), policy.cookie_value(handler),
                       httponly=True, samesite="Strict")
    rest = [(k, v) for k, v in parse_qsl(request.query) if k != "token"]
    handler.redirect(request.path + ("?" + urlencode(rest) if rest else ""))
    return True


class Refusals:
    """The log's view of refused requests: the first of a window is one line with its reason,
    the others a count at the window's end; at most two lines a minute however many arrive."""

    def __init__(self, log, window=REFUSAL_WINDOW, clock=time.monotonic):
        self.log, self.window, self.clock = log, window, clock
        self.count, self.started = 0, None

    def refused(self, handler, schedule):
        """Count one; `schedule(delay, callback)` runs the window's closing count later."""
        request = handler.request
        if self.started is None:
            self.started = self.clock()
            self.log.warning("403 %s %s (%s): %s; further refusals are counted, one line a minute",
                             request.method, request.path[:100], request.remote_ip,
                             handler._vizlab_refused)
            schedule(self.window, self.close_window)
        else:
            self.count += 1

    def close_window(self):
        if self.count:
            self.log.warning("refused %d more requests in the last %d s", self.count, self.window)
        self.count, self.started = 0, None


TOKEN_IN_TEXT = re.compile(r"(token=)[^&\s'\"]*", re.IGNORECASE)


def hide_tokens(token):
    """Every log record from now on has `token` and any token=VALUE hidden (the token URL's
    302, a warning quoting a request)."""
    make_record = logging.getLogRecordFactory()

    def record(*args, **kwargs):
        entry = make_record(*args, **kwargs)
        try:
            text = entry.getMessage()
        except Exception:   # a record that cannot be formatted is logging's problem, not ours
            return entry
        clean = TOKEN_IN_TEXT.sub(r"\1[hidden]", text)
        if token:
            clean = clean.replace(token, "[hidden]")
        if clean != text:
            entry.msg, entry.args = clean, ()
        return entry

    logging.setLogRecordFactory(record)


def policy_from_environment(environ=os.environ, loopback_only=True):
    mode = environ.get(protocol.MODE_ENV, "private")
    token = None
    if mode == "private" and environ.get(protocol.TOKEN_FILE_ENV):
        with open(environ[protocol.TOKEN_FILE_ENV]) as f:
            token = f.read().strip() or None
    return Policy(mode, token, loopback_only)


def install(loopback_only=True):
    """Check every request of this process's tornado handlers; prints one line saying how."""
    import tornado.ioloop
    import tornado.web

    policy = policy_from_environment(loopback_only=loopback_only)
    hide_tokens(policy.token)
    refusals = Refusals(logging.getLogger("vizlab.access"))
    stock_prepare = tornado.web.RequestHandler.prepare
    stock_log_request = tornado.web.Application.log_request

    def prepare(handler):
        refused = policy.problem(handler)
        if refused is not None:
            return _refuse(handler, *refused)
        if _token_url_cookie(handler, policy):
            return
        if handler.get_cookie(old_cookie_name(_port_of(handler.request))):
            handler.clear_cookie(old_cookie_name(_port_of(handler.request)))
        return stock_prepare(handler)

    def log_request(app, handler):
        if getattr(handler, "_vizlab_refused", None) is None:
            return stock_log_request(app, handler)
        refusals.refused(handler, tornado.ioloop.IOLoop.current().call_later)

    tornado.web.RequestHandler.prepare = prepare
    tornado.web.Application.log_request = log_request
    who = {"private": "the owner's uid or token only", "open": "anyone who reaches the port",
           "login": "Visdom's login"}.get(policy.mode, policy.mode)
    print(f"vizlab: access: {who}; same-origin requests only", file=sys.stderr, flush=True)
    return policy
