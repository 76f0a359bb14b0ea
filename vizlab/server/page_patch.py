"""visdom 0.2.4's page, patched so that an applied update never makes it reload the whole env.

The page keeps a clean copy of each pane to check updates against (`consistent_pane_copy`: an
update applies when md5(stringify(copy + patch)) equals the server's `finalHash`). After applying
one it hands the pane Plotly drew, with the patch applied, to `processPane`, which deep-copies it
into the clean copy too; but Plotly writes into the objects it draws (`opacity`, the axes' computed
`range`, `autorange`, `type`), so the copy takes those, the next update's hash fails, and the page
asks for the env again (every pane re-sent). The patch marks the panes `_checkWindow` hands over
and lets `processPane` copy only the panes that came from the server (a new window, a reload):
the clean copy stays what the server holds. Everything else, zoom kept across appends included,
is stock. visdom 0.3's page checks versions instead and is served as it is.

Loaded by file path into the server process (vizlab.server.process.server_command), so it imports
only the standard library and visdom.
"""

import os
import re
import sys

PATH = "/static/js/main.js"
# processPane's deep copy into the clean copy (twice: a new pane, an existing one)
COPY = re.compile(r"(\w+)\.state\.consistent_pane_copy\[(\w+)\.id\]=JSON\.parse\(JSON\.stringify\(\2\)\)")
# _checkWindow's hand-over of the drawn pane with the patch applied
HAND_OVER = re.compile(r"(\w+)\.addPaneBatched\((\w+)\)\}else \1\.postForEnv")


def patched(source):
    """The page script with both edits, or None when it is not the script this module knows."""
    text, copies = COPY.subn(lambda m: f"{m[2]}.__vizlab_applied||({m[0]})", source)
    text, hand_overs = HAND_OVER.subn(
        lambda m: f"({m[2]}.__vizlab_applied=!0,{m[1]}.addPaneBatched({m[2]}))}}else {m[1]}.postForEnv", text)
    return text if (copies, hand_overs) == (2, 1) else None


def install():
    """Serve the patched script on the visdom 0.2.4 server this process will start; one line."""
    try:
        import visdom
        from tornado.web import RequestHandler
        from visdom.server import app as app_module
        with open(os.path.join(os.path.dirname(visdom.__file__), "static", "js", "main.js")) as f:
            script = patched(f.read())
    except Exception as exc:   # an unknown visdom: never stop the server from starting
        print(f"vizlab: page patch off ({exc!r})", file=sys.stderr, flush=True)
        return False
    if script is None:
        print(f"vizlab: page patch off (visdom {visdom.__version__}'s page is served as it is)",
              file=sys.stderr, flush=True)
        return False
    body = script.encode("utf-8")

    class MainScript(RequestHandler):
        def get(self):
            self.set_header("Content-Type", "application/javascript; charset=UTF-8")
            self.set_header("Cache-Control", "no-cache")   # a stock server on this port later serves its own
            self.finish(body)

    stock_init = app_module.Application.__init__

    def __init__(self, *args, **kwargs):
        stock_init(self, *args, **kwargs)
        self.add_handlers(r".*", [(self.base_url + PATH, MainScript)])   # before visdom's static files

    app_module.Application.__init__ = __init__
    print(f"vizlab: page patch on ({PATH}: updates never reload the env)", file=sys.stderr, flush=True)
    return True
