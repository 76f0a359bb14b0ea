"""POST /vizlab/batch: many windows' /events, /update and /win_exists requests in one (issue 18).

Stock Visdom takes one window per request, so a logger with 1,000 changed windows made 1,000
requests a round and a window's live view lagged many seconds. The body is
{"requests": [[endpoint, message], ...]} with endpoint "events", "update" or "win_exists"; each
item runs, in order, through the code its own request would run (visdom's /events steps,
`UpdateHandler.wrap_func` with fast_append's patch, `ExistsHandler.wrap_func`), and the reply
is [[status, text], ...]: what each request alone would have answered. A body that is not such
a list is refused whole (HTTP 422, nothing stored).
Every answer carries X-Vizlab-Batch: 1, which is how a client tells this server from stock Visdom
(a GET of the path is the probe: stock Visdom answers it with its index page, without the header).

Access: the handler is a tornado RequestHandler, so server/access.py's `prepare` checks it like every
other (owner uid or token, same origin); Visdom's login is checked as /update checks it.
Loaded by file path into the server process (`vizlab.server.process.server_command`), so it imports
only the standard library, tornado, visdom and vizlab/protocol.py (PATH and HEADER, which the
clients read there too).
"""

import json
import logging
import sys

import tornado.escape
import tornado.web

if __package__:   # imported as vizlab.server.batch_endpoint
    from vizlab import protocol
else:             # loaded by file path into the server (server_command loads protocol.py first)
    import vizlab_protocol as protocol

PATH, HEADER = protocol.BATCH_PATH, protocol.BATCH_HEADER
ENDPOINTS = ("events", "update", "win_exists")
MAX_ITEMS = 10_000


class _Item:
    """The request handler as visdom's code sees it while it runs one item: the batch's own
    handler (state, subscribers, login), except that what it answers belongs to this item."""

    def __init__(self, handler):
        self._handler, self._status, self._chunks = handler, 200, []

    def __getattr__(self, name):
        return getattr(self._handler, name)

    def set_status(self, status_code, reason=None):
        self._status = status_code

    def get_status(self):
        return self._status

    def write(self, chunk):
        if isinstance(chunk, dict):
            chunk = tornado.escape.json_encode(chunk)
        elif isinstance(chunk, bytes):
            chunk = chunk.decode("utf-8", "replace")
        elif not isinstance(chunk, str):   # as tornado's own write: the request fails (500)
            raise TypeError(f"write() only accepts bytes, str and dict, not {type(chunk).__name__}")
        self._chunks.append(chunk)


def parse(body):
    """[(endpoint, message)] of a batch body; ValueError saying what is wrong with it."""
    try:
        batch = tornado.escape.json_decode(tornado.escape.to_basestring(body))
    except (ValueError, TypeError, UnicodeDecodeError, RecursionError) as err:
        raise ValueError(f"the body is not JSON ({type(err).__name__})") from None
    items = batch.get("requests") if isinstance(batch, dict) else None
    if not isinstance(items, list):
        raise ValueError('the body must be {"requests": [[endpoint, message], ...]}')
    if len(items) > MAX_ITEMS:
        raise ValueError(f"{len(items)} requests in one batch; at most {MAX_ITEMS}")
    for item in items:
        if not (isinstance(item, list) and len(item) == 2 and item[0] in ENDPOINTS):
            raise ValueError(f"each request is [endpoint, message] with endpoint one of {ENDPOINTS}")
    return [tuple(item) for item in items]


def _events(web, handler, req):
    """What visdom's PostHandler does with one /events body (0.2.4 and 0.3 alike)."""
    if req.get("func") is not None:
        raise ValueError("Lua Torch requests are not supported")
    web.register_window(handler, web.window(req), web.extract_eid(req))


def run_item(web, handler, endpoint, message):
    """[status, text] that `endpoint` alone would have answered for `message`."""
    item = _Item(handler)
    try:
        if endpoint == "update":
            web.UpdateHandler.wrap_func(item, message)   # fast_append's patch when installed
        elif endpoint == "win_exists":
            web.ExistsHandler.wrap_func(item, message)
        else:
            _events(web, item, message)
    except tornado.web.HTTPError as err:
        return [err.status_code, ""]
    except Exception as err:   # an uncaught error answers 500, as tornado does for one request
        logging.getLogger("tornado.application").warning(
            "vizlab batch: /%s failed: %s: %s", endpoint, type(err).__name__, str(err)[:200])
        return [500, ""]
    return [item.get_status(), "".join(item._chunks)]


def install():
    """Add the endpoint to the visdom server this process will start; prints one line."""
    try:
        from visdom.server import app as app_module
        from visdom.server.handlers import web_handlers as web
        needed = ("extract_eid", "window", "register_window", "UpdateHandler", "ExistsHandler")
        if not all(hasattr(web, name) for name in needed) or not all(
                hasattr(handler, "wrap_func") for handler in (web.UpdateHandler, web.ExistsHandler)):
            raise ImportError("visdom's handlers are not the expected ones")
    except Exception as exc:   # an unknown visdom: never stop the server from starting
        print(f"vizlab: batch endpoint off ({exc}); clients send one window per request",
              file=sys.stderr, flush=True)
        return False

    class BatchHandler(web.UpdateHandler):
        def get(self):
            """The probe: stock Visdom answers this path with its index page, without HEADER."""
            self.set_header(HEADER, "1")
            self.finish("[]")

        def post(self):
            self.set_header(HEADER, "1")
            if self.login_enabled and not self.current_user:
                self.set_status(400)   # as /update answers: the client logs in and retries
                return
            try:
                items = parse(self.request.body)
            except ValueError as err:
                self.set_status(422)
                self.finish(f"vizlab: batch refused: {err}\n")
                return
            replies = [run_item(web, self, endpoint, message) for endpoint, message in items]
            self.set_header("Content-Type", "application/json")
            self.finish(json.dumps(replies))

    stock_init = app_module.Application.__init__

    def __init__(self, *args, **kwargs):
        stock_init(self, *args, **kwargs)
        # Checked before visdom's own rules, whose last one catches every path.
        self.add_handlers(r".*", [(self.base_url + PATH, BatchHandler, {"app": self})])

    app_module.Application.__init__ = __init__
    print(f"vizlab: batch endpoint on ({PATH})", file=sys.stderr, flush=True)
    return True
