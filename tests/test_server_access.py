"""Issue 19: a server vizlab starts is its owner's alone, and no web page writes to it.

Real servers, a real second uid (nobody, through setpriv; skipped with the reason unless root),
real HTTP requests the way a browser would send them.
"""

import http.server
import json
import os
import shutil
import stat
import subprocess
import sys
import threading
import time
from contextlib import contextmanager

import pytest
import requests

from support.servers import stock_server
from support.windows import points
from vizlab import VisdomLogger, private_files, protocol
from vizlab.server import access
from vizlab.server.process import VisdomServer, free_port, is_visdom, probe

pytestmark = pytest.mark.server   # starts or needs a real Visdom server

NOBODY = 65534
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))   # this checkout's vizlab


def nobody_command(script, *args, python=sys.executable):
    """argv running Python `script` as uid/gid 65534 with no groups, importing this checkout's
    vizlab (-I: nothing from the environment or the cwd); skips unless that can be done."""
    if os.geteuid() != 0:
        pytest.skip("needs root to run a request as another uid (setpriv --reuid 65534)")
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("setpriv (util-linux) is not installed: cannot act as another uid")
    script = f"import sys; sys.path.insert(0, {ROOT!r})\n" + script
    return [setpriv, "--reuid", str(NOBODY), "--regid", str(NOBODY), "--clear-groups",
            python, "-I", "-c", script, *args]


def as_nobody(script, *args, timeout=60, python=sys.executable):
    """Run Python `script` as uid 65534 (nobody_command); (exit code, stdout and stderr)."""
    done = subprocess.run(nobody_command(script, *args, python=python), capture_output=True, text=True,
                          timeout=timeout, cwd="/")
    if done.returncode in (126, 127) or "Permission denied: '" + python in done.stderr:
        pytest.skip(f"uid {NOBODY} cannot run {python}: {done.stderr.strip()}")
    return done.returncode, "\n".join(t for t in (done.stdout.strip(), done.stderr.strip()) if t)


# A stdlib script runs on the system's Python where there is one: uid 65534 cannot run a pyenv
# Python under /root (make test runs the suite on those too).
STDLIB_PYTHON = "/usr/bin/python3" if os.access("/usr/bin/python3", os.X_OK) else sys.executable

# One request as the other uid: prints "STATUS BODY" (the body's first 200 characters).
REQUEST = """
import sys, urllib.request, urllib.error
url, body, headers = sys.argv[1], sys.argv[2], dict(h.split(": ", 1) for h in sys.argv[3:])
req = urllib.request.Request(url, data=body.encode() if body else None, headers=headers)
try:
    reply = urllib.request.urlopen(req, timeout=10)
    print(reply.status, reply.read()[:200].decode("utf-8", "replace"))
except urllib.error.HTTPError as err:
    print(err.code, err.read()[:200].decode("utf-8", "replace"))
"""


def nobody_request(url, body="", *headers):
    code, out = as_nobody(REQUEST, url, body, *headers, python=STDLIB_PYTHON)
    assert code == 0, out
    status, _, text = out.partition(" ")
    return int(status), text


def line_window(port, env, win, n=3):
    """A line window written by the owner's logger, read back: {trace: {x: y}}."""
    with VisdomLogger(env=env, port=port, journal=False) as log:
        for step in range(n):
            log.scalar(win, step, float(step))
    return points(port, env, win)


@pytest.fixture
def home(tmp_path, monkeypatch):
    """A temporary HOME (the token file and ~/.visdom go there)."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    (tmp_path / "home").mkdir()
    return tmp_path / "home"


@pytest.fixture
def private(home, tmp_path):
    with VisdomServer(env_path=tmp_path / "env", log_path=tmp_path / "server.log") as srv:
        yield srv


# ---- other local users ----

def test_another_uid_can_neither_read_nor_write(private):
    url, env = private.url, "access_other_uid"
    assert line_window(private.port, env, "loss") == {"value": {0: 0.0, 1: 1.0, 2: 2.0}}
    read = json.dumps({"eid": env, "win": "loss"})
    write = json.dumps({"eid": env, "win": "planted", "data": [{"x": [1], "y": [1], "type": "scatter"}],
                        "layout": {}, "opts": {}})
    answers = {
        "win_data": nobody_request(url + "/win_data", read),
        "env": nobody_request(url + f"/env/{env}", json.dumps({"eid": env})),
        "page": nobody_request(url + f"/env/{env}"),
        "events": nobody_request(url + "/events", write),
        "update": nobody_request(url + "/update", json.dumps(dict(json.loads(write), win="loss", append=True))),
        "batch": nobody_request(url + "/vizlab/batch", json.dumps({"requests": [["events", json.loads(write)]]})),
    }
    for what, (status, text) in answers.items():
        assert status == 403 and "private to its owner" in text, (what, status, text)
    # Nothing the other uid sent was stored; the owner still reads and writes.
    assert requests.post(url + "/win_exists", data=json.dumps({"eid": env, "win": "planted"})).text == "false"
    assert points(private.port, env, "loss") == {"value": {0: 0.0, 1: 1.0, 2: 2.0}}


def test_the_token_file_is_the_owners_alone(private, home):
    path = protocol.token_path(private.port)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    code, out = as_nobody("import sys; print(open(sys.argv[1]).read())", str(path), python=STDLIB_PYTHON)
    assert code != 0 and "Permission denied" in out


def test_the_token_lets_in_whom_the_owner_gives_it(private):
    """Sharing on purpose: the token in a header, or the token URL once and then its cookie."""
    token, env = protocol.read_token(private.port), "access_token"
    line_window(private.port, env, "acc")
    read = json.dumps({"eid": env, "win": "acc"})
    status, text = nobody_request(private.url + "/win_data", read, f"{protocol.TOKEN_HEADER}: {token}")
    assert status == 200 and '"acc"' in text
    assert nobody_request(private.url + "/win_data", read,
                          f"{protocol.TOKEN_HEADER}: wrong-{token}")[0] == 403
    # A browser: the token URL sets a cookie (HttpOnly, SameSite=Strict) and drops the token from
    # the address; the cookie alone lets it in afterwards.
    code, out = as_nobody("""
import sys, urllib.request, http.cookiejar
jar = http.cookiejar.CookieJar()
opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
first = opener.open(sys.argv[1] + "/?token=" + sys.argv[2], timeout=10)
print(first.geturl(), [c.name for c in jar])
data = opener.open(urllib.request.Request(sys.argv[1] + "/win_data", data=sys.argv[3].encode()), timeout=10)
print(data.status)
""", private.url, token, read, python=STDLIB_PYTHON)
    assert code == 0, out
    assert f"{private.url}/ " in out and access.cookie_name(private.port) in out and out.endswith("200")


# ---- web pages ----

CREATE = {"eid": "access_origin", "win": "planted", "data": [{"x": [1], "y": [1], "type": "scatter"}],
          "layout": {}, "opts": {}}


@pytest.mark.parametrize("login", [False, True], ids=["private", "login"])
@pytest.mark.parametrize("headers", [
    {"Origin": "http://evil.example"},
    {"Origin": "null"},                                         # a sandboxed page, or no-referrer
    {"Referer": "http://evil.example/page.html"},               # an old browser: Referer only
    {"Origin": "http://localhost:{port}"},                      # same machine, another origin
], ids=["origin", "null-origin", "referer", "other-name"])
def test_cross_origin_writes_are_refused(headers, login, home, tmp_path, monkeypatch):
    if login:
        monkeypatch.setenv("VISDOM_USERNAME", "owner")
        monkeypatch.setenv("VISDOM_PASSWORD", "pw-" + os.urandom(4).hex())
    with VisdomServer(env_path=tmp_path / "env", login=login) as srv:
        headers = {k: v.format(port=srv.port) for k, v in headers.items()}
        simple = dict(headers, **{"Content-Type": "text/plain"})   # a CORS simple request
        batch = json.dumps({"requests": [["events", CREATE]]})
        for endpoint in ("events", "update", "close", "delete_env", "vizlab/batch"):
            body = batch if endpoint == "vizlab/batch" else json.dumps(CREATE)
            reply = requests.post(f"{srv.url}/{endpoint}", data=body, headers=simple)
            assert reply.status_code == 403 and "cross-origin" in reply.text, (endpoint, reply.text)
        # Python clients send no Origin: the owner's logger keeps working (with its login).
        assert line_window(srv.port, "access_origin", "loss") == {"value": {0: 0.0, 1: 1.0, 2: 2.0}}
        if not login:
            same = requests.post(srv.url + "/win_exists", data=json.dumps(CREATE),
                                 headers={"Origin": srv.url, "Content-Type": "text/plain"})
            assert same.status_code == 200 and same.text == "false"


def test_a_page_that_rebinds_its_name_to_the_loopback_is_refused(private):
    reply = requests.post(private.url + "/win_data", data=json.dumps({"eid": "main", "win": "x"}),
                          headers={"Host": f"evil.example:{private.port}"})
    assert reply.status_code == 403 and "Host" in reply.text


EVIL_PAGE = """<html><body><script>
fetch("%s/events", {method: "POST", mode: "no-cors", headers: {"Content-Type": "text/plain"},
                    body: %s}).then(() => { document.title = "sent"; },
                                    e => { document.title = "failed " + e; });
</script></body></html>"""


@contextmanager
def page_elsewhere(target, env):
    """An HTTP server on another port (another origin) whose page posts a window to `target`."""
    body = EVIL_PAGE % (target, json.dumps(json.dumps(dict(CREATE, eid=env))))

    class Page(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            self.wfile.write(body.encode())

        def log_message(self, *args):
            pass
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Page)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def planted_by_a_page(chromium, srv, env):
    with page_elsewhere(srv.url, env) as url:
        page = chromium.new_page()
        page.goto(url)
        page.wait_for_function("document.title.length > 0")
        page.close()
    exists = requests.post(srv.url + "/win_exists", data=json.dumps({"eid": env, "win": "planted"}))
    return exists.text == "true"


def test_chromium_shows_the_dashboard_and_a_page_elsewhere_cannot_write(private, tmp_path):
    """The owner's real browser draws the dashboard; a page on another origin that posts a
    window (a simple request, no preflight) is refused. Control: stock Visdom takes it."""
    from support import browser as vb

    if vb.find_chromium() is None:
        pytest.fail(vb.INSTALL_HINT) if os.environ.get("CI") else pytest.skip(vb.INSTALL_HINT)
    env = "access_page"
    line_window(private.port, env, "loss", n=5)
    with vb.open_browser() as chromium:
        page, problems = vb.open_dashboard(chromium, private.url, env)
        drawn = vb.wait_for_panes(page, ["loss"])
        assert vb.total_points(drawn["loss"]) == 5 and problems.messages() == []
        assert not planted_by_a_page(chromium, private, env)
        assert "403 POST /events" in (tmp_path / "server.log").read_text()   # it did arrive
        with stock_server(tmp_path) as stock:
            assert planted_by_a_page(chromium, stock, env)


# ---- secrets on disk ----

def test_cookie_secret_is_0600_in_a_0755_dot_visdom(home, tmp_path, monkeypatch):
    monkeypatch.setenv("VISDOM_USERNAME", "owner")
    monkeypatch.setenv("VISDOM_PASSWORD", "pw-" + os.urandom(4).hex())
    dot_visdom = home / ".visdom"
    dot_visdom.mkdir()
    dot_visdom.chmod(0o755)   # as plain Visdom leaves it
    os.umask(old := os.umask(0o022))
    try:
        with VisdomServer(env_path=tmp_path / "env", login=True) as srv:
            assert is_visdom(srv.url)
        secret = dot_visdom / "COOKIE_SECRET"
        assert stat.S_IMODE(secret.stat().st_mode) == 0o600
        # A secret left world-readable by an earlier plain Visdom is fixed at start, and said so.
        secret.chmod(0o644)
        with VisdomServer(env_path=tmp_path / "env", login=True) as srv:
            assert is_visdom(srv.url)
    finally:
        os.umask(old)
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    code, out = as_nobody("import sys; print(open(sys.argv[1]).read())", str(secret), python=STDLIB_PYTHON)
    assert code != 0 and "Permission denied" in out


def test_token_file_is_0600_whatever_the_umask(home, capsys):
    port = free_port()
    old = os.umask(0)
    try:
        path = protocol.token_path(port)
        path.parent.mkdir(parents=True, mode=0o777)
        path.parent.chmod(0o777)
        path.write_text("old-token")
        path.chmod(0o666)
        assert private_files.server_token(port) == "old-token"   # kept: a bookmarked token URL still works
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    err = capsys.readouterr().err
    assert "made it 0600" in err and "made it 0700" in err


# ---- is that a Visdom server? ----

def test_a_web_server_whose_page_says_visdom_is_not_one(tmp_path):
    (tmp_path / "visdom-notes.txt").write_text("visdom")
    port = free_port()
    listing = subprocess.Popen([sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"],
                               cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30   # until it listens (a loaded machine starts it slowly)
        while time.monotonic() < deadline and listing.poll() is None:
            try:
                if "visdom" in requests.get(url + "/", timeout=1).text:
                    break
            except requests.RequestException:
                time.sleep(0.05)   # poll interval, not synchronization: the loop waits for the port
        assert "visdom" in requests.get(url + "/", timeout=5).text
        assert probe(url) is None and not is_visdom(url)
    finally:
        listing.kill()
        listing.wait()


def test_another_users_private_server_is_told_apart(private):
    """The other uid's `vizlab serve` on the owner's port: one line, no reuse, nothing started."""
    code, out = as_nobody("""
import sys
from vizlab.server.process import probe
print(probe(sys.argv[1]))
sys.argv = ["vizlab", "serve", "--port", sys.argv[2]]
from vizlab.cli import main
sys.exit(main())
""", private.url, str(private.port))
    lines = out.splitlines()
    assert code != 0 and lines[0] == "refused", out
    assert len(lines) == 2 and "started by another user" in lines[1] and "--port" in lines[1], out
    assert is_visdom(private.url)   # the owner's server, untouched
