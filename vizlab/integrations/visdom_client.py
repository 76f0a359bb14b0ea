"""vizlab.Visdom: Visdom's own client (`visdom.Visdom`), whose calls never wait on the server.

It is Visdom's class with its one transport method replaced: every plotting method builds its
message with Visdom's own code and hands it to `_send`, which here journals it and queues it for
a background thread (vizlab/integrations/visdom_delivery.py) instead of posting it. A writing call
returns what the server would have answered (the window id, generated on the client as Visdom's
client does); a reading call (`win_exists`, `get_window_data`, `get_env_list`, ...) first lets
this client's queued calls reach the server, then asks, within `read_timeout` seconds.
"""

import atexit
import inspect
import sys
import threading
import time

import requests
import visdom

from vizlab.connection import Connection, ServerRefused
from vizlab.integrations import visdom_messages as messages
from vizlab.integrations.visdom_delivery import Delivery
from vizlab.journal import Journal

Stock = visdom.Visdom   # captured before `python -m vizlab.visdom` puts this class in its place
SIGNATURE = inspect.signature(Stock.__init__)
FAST = visdom.__version__.startswith("0.2.")   # line_append is checked against 0.2's messages
EXIT_WAIT = 10.0        # seconds the interpreter's exit waits for the server to take the calls
_deliveries = []        # every client's, kept past the client: its calls still have to go out


class Visdom(Stock):
    """`visdom.Visdom`, same arguments and methods; keyword-only extras:

    journal:      None: runs/<env>-<time>.jsonl; a path; False: no journal.
    read_timeout: seconds a reading call may take (default 5).
    """

    def __init__(self, *args, journal=None, read_timeout=5.0, **kwargs):
        bound = SIGNATURE.bind(None, *args, **kwargs)
        bound.apply_defaults()
        a = bound.arguments
        self._delivery, self._local = None, threading.local()
        self.read_timeout = read_timeout
        self._last_id = 0
        if a["send"] and not a["offline"]:
            url = a["server"] if "://" in a["server"] else "http://" + a["server"]
            base = a["base_url"] if a["base_url"] != "/" else ""
            self._connection, self._reader = (_connection(url, base, a) for _ in "cr")
            self._reader_lock = threading.Lock()
            if a["raise_exceptions"]:   # what Visdom's first request would have told the caller
                if self._ask("env_state", {}, read_timeout) is False:
                    raise ConnectionError("Error connecting to Visdom server")
            self.journal = None if journal is False else (
                Journal(journal) if journal else Journal.create(a["env"] or "main"))
            if self.journal is not None:
                self.journal.write({"op": "start", "env": a["env"] or "main", "time": time.time(),
                                    "client": "visdom"})
            self._delivery = Delivery(self._connection, self.journal, notices=_say)
            _deliveries.append(self._delivery)
        super().__init__(*args, **kwargs)

    # --- the transport: Visdom's own _send, with the post replaced by the journal and a queue
    def _send(self, msg, endpoint="events", quiet=False, from_log=False, create=True):
        if self._delivery is None or self.offline or not self.send:
            return super()._send(msg, endpoint, quiet, from_log, create)
        if msg.get("eid", None) is None:
            msg["eid"] = self.env
            self.env_list.add(self.env)
        if msg.get("eid", None) is not None:
            self.env_list.add(msg["eid"])
        if "win" in msg and msg["win"] is None and create:
            msg["win"] = "window_" + self._new_id()
        if not from_log:
            self._log(msg, endpoint)
        if messages.kind(endpoint, msg) == messages.READ:
            return self._read(endpoint, msg, quiet)
        self._delivery.put(
            ('{"op":"visdom","endpoint":%s,"msg":%s}\n'
             % (messages.dumps(endpoint), messages.dumps(msg))).encode())
        return messages.reply(endpoint, msg)

    def _queue(self, msg, endpoint):
        """_send for a message built by visdom_messages from the caller's values, copied: nothing
        the caller holds is in it, so the journal thread encodes it (saves the call ~7 µs)."""
        if msg.get("eid", None) is None:
            msg["eid"] = self.env
        self.env_list.add(msg["eid"])
        self._delivery.put({"op": "visdom", "endpoint": endpoint, "msg": msg})
        return messages.reply(endpoint, msg)

    def _new_id(self):
        """Visdom's id (hex of time in 100 ns); calls this fast could meet, so never repeat one."""
        stamp = max(int(time.time() * 10000000), self._last_id + 1)
        self._last_id = stamp
        return hex(stamp)[2:]

    def _read(self, endpoint, msg, quiet):
        started = time.monotonic()
        self._delivery.wait(self.read_timeout, check=False, give_up_down=0.0)
        answer = self._ask(endpoint, msg, self.read_timeout - (time.monotonic() - started))
        if answer is False and not quiet:
            _say(f"vizlab.Visdom: {self._reader.url} did not answer /{endpoint} within "
                 f"{self.read_timeout:g} s; the call returns False")
        return answer

    def _ask(self, endpoint, msg, timeout):
        """The server's answer text, or False when it did not answer in time (or refused)."""
        timeout = max(0.2, timeout)
        with self._reader_lock:
            self._reader.timeout = (min(3.0, timeout), timeout)
            try:
                return self._reader.post(endpoint, msg)
            except (requests.RequestException, ServerRefused):
                return False

    # --- appends: the server's win_exists check moves to the sender (see visdom_delivery.py)
    def win_exists(self, win, env=None):
        if getattr(self._local, "appending", False):
            return True   # the sender asks, just before it sends the append
        return super().win_exists(win, env)

    def scatter(self, X, Y=None, win=None, env=None, opts=None, update=None, name=None, **more):
        return self._appending(super().scatter, X, Y=Y, win=win, env=env, opts=opts,
                               update=update, name=name, **more)

    def image(self, img, win=None, env=None, opts=None, **more):
        return self._appending(super().image, img, win=win, env=env, opts=opts, **more)

    def line(self, Y, X=None, win=None, env=None, opts=None, update=None, name=None, **more):
        if update == "append" and FAST and not more and self._delivery is not None \
                and not self.offline and self.send:
            msg = messages.line_append(Y, X, win, env, opts, name)
            if msg is not None:   # the hot call, built without Visdom's general path
                if self.log_to_filename is None and messages.plain(msg):
                    return self._queue(msg, "update")
                return self._send(msg, endpoint="update")
        return super().line(Y, X=X, win=win, env=env, opts=opts, update=update, name=name, **more)

    def _appending(self, method, *args, **kwargs):
        if self._delivery is None:
            return method(*args, **kwargs)
        self._local.appending = True
        try:
            return method(*args, **kwargs)
        finally:
            self._local.appending = False

    # --- vizlab's additions
    def flush(self, timeout=30.0):
        """True once every call so far is on the server and every window checked there."""
        return self._delivery is None or self._delivery.wait(timeout)

    @property
    def journal_path(self):
        return None if getattr(self, "journal", None) is None else self.journal.path


def _connection(url, base, a):
    """HTTP as Visdom's client would reach the server: base_url, proxies, (0.3) ssl_verify."""
    connection = Connection(url, a["port"], a["username"], a["password"])
    connection.url += base
    if a["proxies"]:
        connection.session.proxies.update(a["proxies"])
    if a.get("ssl_verify") is False:
        connection.session.verify = False
    return connection


def _say(text):
    print(text, file=sys.stderr, flush=True)


@atexit.register
def _at_exit():
    """Give the server a bounded chance to take what is queued; the journal keeps the rest."""
    deadline = time.monotonic() + EXIT_WAIT
    for delivery in _deliveries:
        if delivery.stopping:
            continue
        ok = delivery.wait(max(0.0, deadline - time.monotonic()), check=False, give_up_down=3.0)
        delivery.stop(timeout=max(1.0, deadline - time.monotonic()))
        if not ok:
            left = delivery.pending_calls()
            journal = delivery.journal
            where = f"; `vizlab replay {journal.path}` sends them later" if journal else ""
            _say(f"vizlab.Visdom: {left} call{'s' if left != 1 else ''} did not reach "
                 f"{delivery.connection.url}{where}")
