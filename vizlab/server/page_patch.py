"""Visdom's page, patched so that line appends stay appends: small on the wire, applied in
place, drawn soon, and never a reason to reload the whole env.

What is patched in the /static/js/main.js that the servers vizlab starts serve (stock Visdom
servers serve their own page as it is). visdom 0.3's page checks versions instead of hashes and
already redraws with Plotly.react: it gets 1 (without the length check) and 3b only. 0.2.4's:

1. Compact appends. Stock `window_update` messages carry an RFC 6902 patch, two ops per point
   (`{"op":"add","path":"/content/data/0/x/451","value":451}`: ~60 bytes for a 5-byte number).
   The servers vizlab starts send a line append as `vizlab_append: [[trace, xs, ys, length
   before], ...]` (vizlab/server/fast_append.py); `_checkWindow` first turns it back into the
   same ops (`/x/-`: add at the end) and applies them as a stock update. It is checked by the
   lengths (each trace of the clean copy must hold the length the server appended to) instead
   of an md5 of the whole pane's text, a quarter of a redraw's time; on a mismatch the md5
   check runs as before (and fails: the page asks for the env again).
2. The clean copy stays clean. The page checks an update by md5(stringify(clean copy + patch))
   against the server's `finalHash`. After applying one it hands the drawn pane to `processPane`,
   which deep-copied it into the clean copy too; but Plotly writes into the objects it draws
   (`opacity`, the axes' computed `range`, `autorange`), so the copy took those, the next
   update's hash failed and the page asked for the env again (every pane re-sent). Panes that
   `_checkWindow` hands over are marked and not copied again.
3. No lost appends around a whole window. A whole window (its first draw, a decimation stride
   change) went into the clean copy only when React drew it, up to 100 ms later; an append
   arriving in between was checked against the old copy (the page asked for the env again),
   and applied to the pane already drawn, not to the whole window waiting to be drawn, which
   then replaced it (the append's points vanished until the next whole send). A whole window
   now goes into the clean copy when it arrives, and an update applies to the newest pane,
   drawn or still waiting. (Like an update, it is taken in a 0 ms timer: the two keep their order.)
3b. Sooner. Updates wait for a batch timer before React draws them: 100 ms, now 20 ms (the
   windows of one send arrive within a few ms, so they still draw in one batch).
4. Lighter redraws. A plot pane redraws with `Plotly.react` (reuses the plot's DOM: axes,
   legend, mode bar) instead of `Plotly.newPlot` (tears it down and builds it again); a
   `datarevision` from the pane's contentID tells Plotly its arrays grew in place.
5. No "Edit" link under each plot: it posts the plot's data to chart-studio.plotly.com (nothing
   a run's numbers should be sent to, and dead on an air-gapped machine), and Plotly rebuilt it
   on every redraw (about a sixth of a redraw's time).

Loaded by file path into the server process (vizlab.server.process.server_command), so it imports
only the standard library and visdom.
"""

import hashlib
import os
import re
import sys

PATH = "/static/js/main.js"

# Turns a compact append into the stock RFC 6902 ops (`/x/-`: add at the end), once per message,
# and notes whether the clean copy holds the lengths the server appended to: the check that
# stands in for the md5 of the whole pane (a missed or doubled append changes a length).
EXPAND = """window.__vizlabExpand = function (cmd, clean) {
  if (!cmd.vizlab_append) return;
  var ops = [], ok = true;
  cmd.vizlab_append.forEach(function (t) {
    var trace = clean && clean.content && clean.content.data && clean.content.data[t[0]];
    ok = ok && !!trace && Array.isArray(trace.x) && Array.isArray(trace.y) &&
         trace.x.length === t[3] && trace.y.length === t[3];
    ['x', 'y'].forEach(function (axis, k) {
      var path = '/content/data/' + t[0] + '/' + axis + '/-';
      t[k + 1].forEach(function (v) { ops.push({op: 'add', path: path, value: v}); });
    });
  });
  cmd.content = ops.concat(cmd.content || []);
  cmd.__vizlab_ok = ok;
  delete cmd.vizlab_append;
};
"""

EDITS_02 = [   # visdom 0.2.4's page: (what, pattern, replacement, how many times it must match)
    ("expand compact appends, checked by length",
     re.compile(r'(\(function\((\w+),\w+\)\{if\(\2\.win in (\w+)\.state\.consistent_pane_copy\)\{)'
                r'(var (\w+)=\3\.state\.consistent_pane_copy\[\2\.win\],(\w+)=(\w+)\.applyPatch\(\5,\2\.content\)'
                r'\.newDocument;if\()(\w+\(\w+\(\6\)\)===\2\.finalHash\))'),
     lambda m: (f"{m[1]}window.__vizlabExpand({m[2]},{m[3]}.state.consistent_pane_copy[{m[2]}.win]);"
                f"{m[4]}{m[2]}.__vizlab_ok||{m[8]}"), 1),
    ("keep the clean copy clean",
     re.compile(r"(\w+)\.state\.consistent_pane_copy\[(\w+)\.id\]=JSON\.parse\(JSON\.stringify\(\2\)\)"),
     lambda m: f"{m[2]}.__vizlab_applied||({m[0]})", 2),
    ("mark the panes _checkWindow hands over",
     re.compile(r"(\w+)\.addPaneBatched\((\w+)\)\}else \1\.postForEnv"),
     lambda m: f"({m[2]}.__vizlab_applied=!0,{m[1]}.addPaneBatched({m[2]}))}}else {m[1]}.postForEnv", 1),
    ("take a whole window into the clean copy when it arrives",
     re.compile(r'(case"pane":case"window":[^;]*?)(\w+)\.addPaneBatched\((\w+)\);break;'),
     lambda m: (f"{m[1]}setTimeout(function(){{{m[2]}.state.consistent_pane_copy[{m[3]}.id]="
                f"JSON.parse(JSON.stringify({m[3]}));{m[3]}.__vizlab_applied=!0;{m[2]}.addPaneBatched({m[3]})}},0);break;"), 1),
    ("apply an update to the newest pane, drawn or still waiting",
     re.compile(r"var (\w+)=(\w+)\.state\.panes\[(\w+)\.win\],(\w+)=(\w+)\.applyPatch\(\1,\3\.content\)"),
     lambda m: (f"var {m[1]}={m[2]}._pendingPanes.filter(function(p){{return p.id==={m[3]}.win}}).pop()"
                f"||{m[2]}.state.panes[{m[3]}.win],{m[4]}={m[5]}.applyPatch({m[1]},{m[3]}.content)"), 1),
    ("draw batched updates after 20 ms",
     re.compile(r"setTimeout\((\w+)\.processBatchedPanes,100\)"),
     lambda m: f"setTimeout({m[1]}.processBatchedPanes,20)", 1),
    ("redraw plots with Plotly.react",
     re.compile(r"Plotly\.newPlot\((\w+),(\w+)\.concat\((\w+)\),(\w+)\.layout,"),
     lambda m: f"{m[4]}.layout.datarevision={m[1]},Plotly.react({m[1]},{m[2]}.concat({m[3]}),{m[4]}.layout,", 1),
    ("no 'Edit' link (it uploads the plot to chart-studio.plotly.com)",
     re.compile(r'showLink:!0,linkText:"Edit"'), lambda m: "showLink:!1", 1),
]

EDITS_03 = [   # visdom 0.3's page: it checks versions, not hashes, and already redraws with react
    ("expand compact appends",
     re.compile(r'("window_update"==(\w+)\.command&&\()(\2=\w+\.applyPatch\()'),
     lambda m: f"{m[1]}window.__vizlabExpand({m[2]}),{m[3]}", 1),
    ("draw batched updates after 20 ms",
     re.compile(r"(\w+\.current=)setTimeout\((\w+),100\)"),
     lambda m: f"{m[1]}setTimeout({m[2]},20)", 2),
]


def patched(source):
    """The page script with every edit of the version it matches, or None when it is neither."""
    for edits in (EDITS_02, EDITS_03):
        text = source
        for _, pattern, replacement, times in edits:
            text, n = pattern.subn(replacement, text)
            if n != times:
                break
        else:
            return EXPAND + text
    return None


def install():
    """Serve the patched script on the visdom server (0.2.4 or 0.3) this process will start; one line."""
    try:
        import visdom
        from tornado.web import RequestHandler, StaticFileHandler
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

    class Versioned(StaticFileHandler):
        """The page links main.js?v=<md5 of the file>, which browsers keep for ten years: the
        patched script gets its own v, so a browser that once loaded a stock server's page on
        this port does not run that one against these servers' compact appends."""
        @classmethod
        def get_version(cls, settings, path):
            return hashlib.md5(body).hexdigest() if path == "js/main.js" else super().get_version(settings, path)

    stock_init = app_module.Application.__init__

    def __init__(self, *args, **kwargs):
        stock_init(self, *args, **kwargs)
        self.add_handlers(r".*", [(self.base_url + PATH, MainScript)])   # before visdom's static files
        self.settings["static_handler_class"] = Versioned                # only static_url() asks it

    app_module.Application.__init__ = __init__
    print(f"vizlab: page patch on ({PATH}: compact appends, no env reloads, react redraws)", file=sys.stderr, flush=True)
    return True
