"""Who may talk to a Visdom server vizlab starts: its owner, and no web page (issue 19).

Loaded by file path into the server process (`vizlab.server.process.server_command`) next to
fast_append.py, so it imports only the standard library and tornado. `install()` wraps every
handler's `prepare` (tornado runs it before each request, WebSocket handshakes included):

- Host: on a server bound to 127.0.0.1 the Host header must name the loopback (a page that
  rebinds its own name to 127.0.0.1 is refused).
- Origin: a request whose Origin (or, for a write, Referer) is present and not the server's own
  is refused, in every mode. Python clients send neither.
- Owner only (mode "private", the default): a request passes when it carries the server's token
  (header X-Vizlab-Token, the cookie set by the token URL, or ?token= which sets that cookie),
  or when it comes over the loopback from a socket owned by the server's own uid (Linux's
  /proc/net/tcp says whose each socket is), so the owner's own tools need no token.
  Modes "open" (plain Visdom) and "login" (Visdom's own login decides) skip this part.
"""

import hmac
import ipaddress
import os
import secrets
import stat
import sys
from pathlib import Path
from urllib.parse import urlencode, urlsplit, parse_qsl

MODE_ENV = "VIZLAB_ACCESS_MODE"          # private | open | login
TOKEN_FILE_ENV = "VIZLAB_TOKEN_FILE"     # where the private mode's token is (0600)
TOKEN_HEADER = "X-Vizlab-Token"
REFUSED_HEADER = "X-Vizlab-Refused"      # on every refusal, so vizlab can tell what answered
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1")
_TABLES = {4: "/proc/net/tcp", 6: "/proc/net/tcp6"}
TOKEN_DIR = "~/.vizlab/servers"          # PORT.token, 0600, in a 0700 folder


# ---- the owner's secrets on disk (used by vizlab itself, not in the server) ----

def _say(message):
    print(f"vizlab: {message}", file=sys.stderr, flush=True)


def private_dir(path, fix=True):
    """Folder `path`, made 0700 if missing. One that others can enter is made 0700 and said so
    (fix: vizlab's own folders), or only said so (a folder the user chose: maybe shared on purpose)."""
    path = Path(path)
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077 and fix:
        path.chmod(mode & 0o700)
        _say(f"{path} was readable by other users (mode {mode:04o}); made it {mode & 0o700:04o}")
    elif mode & 0o077:
        _say(f"warning: other users can read what Visdom saves in {path} (mode {mode:04o}); "
             f"chmod 700 it unless that is meant")
    return path


def make_private(path):
    """chmod 0600 a secret that others could read, and say so (whatever its folder's mode)."""
    mode = stat.S_IMODE(os.stat(path).st_mode)
    if mode & 0o077:
        os.chmod(path, 0o600)
        _say(f"{path} was readable by other users (mode {mode:04o}); made it 0600. Anyone who "
             "read it could sign in: delete it to have a new secret made")


def write_private(path, text):
    """Write a secret 0600 from the start (never through the umask), replacing any file there."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)   # an existing file keeps its old mode through O_CREAT
        os.write(fd, text.encode())
    finally:
        os.close(fd)


def token_path(port):
    return Path(os.path.expanduser(TOKEN_DIR)) / f"{port}.token"


def read_token(port):
    """The token of this user's private server on `port`, or None (no such server, or unreadable)."""
    try:
        return token_path(port).read_text().strip() or None
    except OSError:
        return None


def server_token(port):
    """The token for a private server on `port`: the one on disk if any (a restart of the same
    server keeps its token URL), else a new one; the file is left 0600 in a 0700 folder."""
    private_dir(token_path(port).parent)
    path = token_path(port)
    token = read_token(port)
    if token is None:
        token = secrets.token_urlsafe(24)
        write_private(path, token)
    make_private(path)
    return token


def client_token(port, environ=os.environ):
    """What a client sends: $VIZLAB_TOKEN, else this user's token file for `port`, else None."""
    return environ.get("VIZLAB_TOKEN") or read_token(port)


# ---- the checks, in the server process ----


def cookie_name(port):
    return f"vizlab-token-{port}"   # cookies ignore ports: one name per server


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
        """Why this request is refused (a short reason), or None to let it through."""
        request = handler.request
        host = request.headers.get("Host", "")
        if self.loopback_only and _host_only(host) not in LOOPBACK_NAMES:
            return f"Host {host!r} is not this server's"
        origin = request.headers.get("Origin")
        if origin is None and request.method not in ("GET", "HEAD"):
            referer = request.headers.get("Referer")
            if referer:
                parts = urlsplit(referer)
                origin = f"{parts.scheme}://{parts.netloc}"
        if origin is not None and urlsplit(origin).netloc.lower() != host.lower():
            return f"cross-origin request from {origin!r}"
        if self.mode == "private" and not self.is_owner(handler):
            return "this Visdom server is private to its owner"
        return None

    def is_owner(self, handler):
        given = self._token_of(handler)
        if self.token and given and hmac.compare_digest(given.encode(), self.token.encode()):
            return True
        # Once per TCP connection (tornado makes a new HTTP1Connection per request, but keeps
        # the stream): reading /proc/net/tcp costs ~1 ms and more on a busy machine.
        stream = getattr(handler.request.connection, "stream", None)
        uid = getattr(stream, "_vizlab_uid", False)
        if uid is False:
            uid = peer_uid(stream)
            try:
                stream._vizlab_uid = uid
            except AttributeError:
                pass
        return uid is not None and uid == self.uid

    def _token_of(self, handler):
        request = handler.request
        return (request.headers.get(TOKEN_HEADER)
                or handler.get_query_argument("token", None)
                or handler.get_cookie(cookie_name(request.host.rsplit(":", 1)[-1])))


def _refuse(handler, reason):
    """403 with a fixed status line (the reason may quote a header: it goes only in the body)."""
    handler.clear()
    handler.set_status(403)
    handler.set_header(REFUSED_HEADER, "1")
    handler.set_header("Content-Type", "text/plain; charset=utf-8")
    handler.finish(f"vizlab: refused: {reason}\n")


def _token_url_cookie(handler, policy):
    """GET ?token=...: keep it in a cookie and send the browser to the same URL without it."""
    request = handler.request
    if request.method != "GET" or "token" not in request.query_arguments or not policy.token:
        return False
    if not hmac.compare_digest(handler.get_query_argument("token").encode(), policy.token.encode()):
        return False
    handler.set_cookie(cookie_name(request.host.rsplit(":", 1)[-1]), policy.token,
                       httponly=True, samesite="Strict")
    rest = [(k, v) for k, v in parse_qsl(request.query) if k != "token"]
    handler.redirect(request.path + ("?" + urlencode(rest) if rest else ""))
    return True


def policy_from_environment(environ=os.environ, loopback_only=True):
    mode = environ.get(MODE_ENV, "private")
    token = None
    if mode == "private" and environ.get(TOKEN_FILE_ENV):
        with open(environ[TOKEN_FILE_ENV]) as f:
            token = f.read().strip() or None
    return Policy(mode, token, loopback_only)


def install(loopback_only=True):
    """Check every request of this process's tornado handlers; prints one line saying how."""
    import tornado.web

    policy = policy_from_environment(loopback_only=loopback_only)
    stock_prepare = tornado.web.RequestHandler.prepare

    def prepare(handler):
        reason = policy.problem(handler)
        if reason is not None:
            return _refuse(handler, reason)
        if _token_url_cookie(handler, policy):
            return
        return stock_prepare(handler)

    tornado.web.RequestHandler.prepare = prepare
    who = {"private": "the owner's uid or token only", "open": "anyone who reaches the port",
           "login": "Visdom's login"}.get(policy.mode, policy.mode)
    print(f"vizlab: access: {who}; same-origin requests only", file=sys.stderr, flush=True)
    return policy
