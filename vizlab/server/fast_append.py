"""Line appends whose server cost follows the points appended, not the window (visdom issue #1805).

Stock Visdom answers every `/update` append by deep-copying the pane and diffing it with
`jsonpatch.make_patch` (0.2.4 also hashes the whole pane for the browser): cost grows with the
window. `install()` wraps `UpdateHandler.wrap_func` at run time so that the common case (append
to named or all scatter traces, no layout/opts change) builds the new pane and its JSON patch
directly; everything else runs visdom's own code. Loaded by file path into the server process
(`vizlab.server.process.server_command`), so it imports only the standard library and visdom.
"""

import decimal
import hashlib
import inspect
import json
import math
import os
import re
import sys
from collections.abc import Mapping

STATS_ENV = "VIZLAB_FAST_APPEND_STATS"  # set: print a stats line after every /update
stats = {"fast": 0, "stock": 0}

_V02 = ["p", "args"]
_V03 = ["p", "args", "max_text_lines", "max_old_content", "max_image_history"]


class _Unsupported(Exception):
    """This update is not the plain line append: visdom's own code handles it."""


def _dumps(node):
    """The text visdom 0.2.4's page hashes to check an update: json-stable-stringify in the
    browser (sorted keys, integral floats as ints, JavaScript's numbers and raw non-ASCII).
    visdom's own Python stringify writes 1e-05 where the page writes 0.00001, so every update of a
    pane holding such a number failed the page's check and made it reload the whole env."""
    text = json.dumps(_order(node), separators=(",", ":"), ensure_ascii=False)
    return _PYTHON_ONLY.sub(_as_javascript, text) if ("e" in text or "N" in text) else text


# A string (left alone), or what Python writes unlike JavaScript: an exponent, NaN, Infinity.
_PYTHON_ONLY = re.compile(r'"(?:[^"\\]|\\.)*"|-?\d+(?:\.\d+)?e[-+]\d+|-?Infinity|NaN')


def _as_javascript(match):
    text = match.group()
    if text[0] == '"':
        return text
    if text[-1] in "yN":          # NaN, Infinity: JSON.stringify writes null
        return "null"
    return js_number(float(text))


def js_number(x):
    """JavaScript's Number::toString(x) (ECMA-262): the same shortest digits as Python's repr,
    an exponent only below 1e-6 or from 1e21, and written without padding (1.5e-7)."""
    sign, digits, exp = decimal.Decimal(repr(x)).normalize().as_tuple()
    s, k = "".join(map(str, digits)), len(digits)
    n = exp + k                   # x = 0.s * 10**n
    if k <= n <= 21:
        text = s + "0" * (n - k)
    elif 0 < n <= 21:
        text = s[:n] + "." + s[n:]
    elif -6 < n <= 0:
        text = "0." + "0" * -n + s
    else:
        text = s[0] + ("." + s[1:] if k > 1 else "") + f"e{'+' if n > 0 else '-'}{abs(n - 1)}"
    return ("-" if sign else "") + text


def _order(node):
    if isinstance(node, Mapping):
        return {k: _order(v) for k, v in sorted(node.items(), key=lambda kv: kv[0])}
    if isinstance(node, (list, tuple)):
        return [_order(item) for item in node]
    if isinstance(node, float) and node.is_integer() and abs(node) < 1e21:
        # an int in JavaScript's digits: past 2**53 the shortest ones, zero-padded (not the exact int)
        return int(node) if abs(node) < 2 ** 53 else int(js_number(node))
    return node


def page_hash(pane):
    """The md5 visdom 0.2.4's page computes of a pane (the `md5` npm package hashes UTF-8)."""
    return hashlib.md5(_dumps(pane).encode("utf-8", "surrogatepass")).hexdigest()


class TextList(list):
    """A trace array this module made, carrying its own stringify text.

    The text lives and dies with the array: a closed window or deleted env frees both, and
    nothing else in this module keeps a reference to any pane (issue 19: a cache keyed by
    id() held every appended array of deleted windows, +50 MB per soak cycle).
    """
    __slots__ = ("text", "length", "__weakref__")


def _known_text(node):
    """The text of a TextList that is still as it was made (visdom may have edited it), else None."""
    if type(node) is TextList and getattr(node, "length", None) == len(node):
        return node.text
    return None


class PaneText:
    """stringify(pane) built from the text the trace arrays of this module carry. Holds nothing."""

    def remember(self, new, old, added):
        """`new` (a TextList) == `old` + `added`; give it its text, from old's when known. An
        array holding lists or dicts is visdom's to handle: how deep a nesting Python can copy or
        write differs by version (3.12 writes 500 levels where 3.11 and visdom's deepcopy fail)."""
        head = _known_text(old)
        if head is None and not _flat(old):
            raise _Unsupported
        head = (head if head is not None else _dumps(old))[:-1]
        tail = _dumps(added)[1:-1]
        new.text = head + ("," if old and added else "") + tail + "]"
        new.length = len(new)

    def text(self, node):
        if isinstance(node, Mapping):
            if not all(isinstance(k, str) for k in node):
                return _dumps(node)
            return "{" + ",".join(json.dumps(k, ensure_ascii=False) + ":" + self.text(node[k])
                                  for k in sorted(node)) + "}"
        if isinstance(node, list):
            known = _known_text(node)
            if known is not None:
                return known
            if len(node) <= 64:
                return "[" + ",".join(self.text(item) for item in node) + "]"
        return _dumps(node)


def _flat(values):
    return not any(isinstance(v, (list, tuple, dict)) for v in values)


def _finite(values):
    return isinstance(values, list) and len(values) > 0 and all(
        type(v) in (int, float) and math.isfinite(v) for v in values)


def _unchanged(current, update):
    return all(v is None or (k in current and current[k] == v) for k, v in update.items())


def _plan(p, args):
    """[(trace index, new trace data)] of a plain line append, or raise _Unsupported."""
    if not args.get("append") or args.get("delete") or p.get("type") != "plot":
        raise _Unsupported
    content = p.get("content")
    pdata = content.get("data") if isinstance(content, dict) else None
    new = args.get("data")
    if not pdata or not isinstance(new, list) or not new:
        raise _Unsupported
    # Layout or opts that would change the pane: visdom's update_window handles them.
    layout, opts = args.get("layout", {}), args.get("opts", {})
    if not (isinstance(layout, dict) and isinstance(opts, dict)):
        raise _Unsupported  # visdom fails on these (HTTP 500): let it, the same way
    if not (_unchanged(content.get("layout") or {}, layout) and _unchanged(p, opts)) \
            or "legend" in opts or "caption" in opts:
        raise _Unsupported
    name = args.get("name")
    if name is not None:
        idxs = [i for i, trace in enumerate(pdata) if trace.get("name") == name]
        if len(new) != 1 or len(idxs) != 1:
            raise _Unsupported  # a new trace, or an ambiguous name
    else:
        idxs = list(range(len(pdata)))
        if len(new) != len(pdata):
            raise _Unsupported
    plan = []
    for n, i in enumerate(idxs):
        trace, data = pdata[i], new[n]
        if not isinstance(data, dict) or trace.get("type") not in ("scatter", "scattergl"):
            raise _Unsupported
        if data.get("x") == []:
            continue  # nothing new for this trace: visdom skips it
        if not (_finite(data.get("x")) and isinstance(data.get("y"), list) and _flat(data["y"])
                and isinstance(trace.get("x"), list) and isinstance(trace.get("y"), list)):
            raise _Unsupported
        marker = data.get("marker", {})
        if not isinstance(marker, dict) or "color" in marker \
                or not isinstance(trace.get("marker", {}), dict):
            raise _Unsupported
        plan.append((i, data))
    return plan


def appended_pane(p, args, new_id, pane_text=None, compact=False):
    """(new pane, JSON patch (RFC 6902), compact points) of a plain line append to pane `p`, which
    stays untouched.

    The new pane shares every unchanged part with `p` (copies of the dicts on the way to the
    changed traces, new arrays for them). compact: the patch leaves the points out and they come
    as the third item, [[trace, xs, ys, length before], ...] (page_patch.py turns them back into
    the same ops); else the third item is None. Raises _Unsupported for anything else.
    """
    plan = _plan(p, args)
    patch, appends = [], []
    new = dict(p, content=dict(p["content"], data=list(p["content"]["data"])))
    pdata = new["content"]["data"]
    for i, data in plan:
        pdata[i] = dict(pdata[i])
        if "marker" in data and "marker" not in pdata[i]:  # visdom adds an empty one
            pdata[i]["marker"] = {}
            patch.append({"op": "add", "path": f"/content/data/{i}/marker", "value": {}})
        appends.append([i, data["x"], data["y"], len(pdata[i]["x"])])
        for axis in ("x", "y"):
            old, added = pdata[i][axis], data[axis]
            base = len(old)
            pdata[i][axis] = TextList(old)  # a new list, as visdom makes
            pdata[i][axis].extend(added)
            if pane_text is not None:
                pane_text.remember(pdata[i][axis], old, added)
            if not compact:
                patch += [{"op": "add", "path": f"/content/data/{i}/{axis}/{base + k}", "value": v}
                          for k, v in enumerate(added)]
    if "version" in new:  # visdom 0.3: update_window counts versions
        new["version"] += 1
        patch.append({"op": "replace", "path": "/version", "value": new["version"]})
    new["contentID"] = new_id
    patch.append({"op": "replace", "path": "/contentID", "value": new_id})
    return new, patch, (appends if compact else None)


def fast_update_packet(p, args, new_id, pane_text=None):
    """Apply a plain line append to pane `p` in place and return its JSON patch.

    Same result as visdom's update_packet; raises _Unsupported (p untouched) for anything else.
    """
    new, patch, _ = appended_pane(p, args, new_id, pane_text)
    p.update(new)
    return patch


def _watched(req, eid):
    """True when a page is subscribed to env `eid` (visdom's broadcast sends to those only)."""
    for sub in req.subs.values():
        ids = sub.eid
        if (eid in ids) if isinstance(ids, (list, dict, set)) else ids == eid:
            return True
    return False


def _plain_numbers(values):
    return all(v is None or (type(v) in (int, float) and math.isfinite(v)) for v in values)


def _window_update_03(args, eid, new, patch, web, appends=None):
    """visdom 0.3's window_update message (appends: page_patch.py's compact points). Its
    NanSafeEncoder walks the patch twice in Python (most of 0.3's fixed cost per append); when
    every appended value is a plain finite number (x always is on this path) the C encoder
    writes the same text."""
    packet = {"command": "window_update", "win": args["win"], "eid": eid, "content": patch,
              "version": new.get("version", 1)}
    if appends:
        packet["vizlab_append"] = appends
    if all(_plain_numbers(data.get("y", ())) for data in args["data"]):
        return json.dumps(packet)
    return json.dumps(packet, cls=web.NanSafeEncoder)


def no_autoreload():
    """visdom runs tornado with debug=True, whose autoreload stats every loaded module's file
    twice a second (~500 files with 0.3) and restarts the server, losing every window, when one
    changes (a pip install while it runs). Servers vizlab starts do neither."""
    try:
        import tornado.autoreload
    except ImportError:
        return
    tornado.autoreload.start = lambda *args, **kwargs: None


def _expected(web):
    """'0.2' or '0.3' when visdom's UpdateHandler is the one this module knows, else None."""
    handler = getattr(web, "UpdateHandler", None)
    needed = ("broadcast", "stringify", "extract_eid", "get_rand_id")
    if handler is None or not all(hasattr(web, name) for name in needed):
        return None
    if not all(hasattr(handler, name) for name in ("update_packet", "update", "wrap_func")):
        return None
    params = list(inspect.signature(handler.update_packet).parameters)
    if params == _V02 and hasattr(web, "hash_md_window"):
        return "0.2"
    if params == _V03 and hasattr(handler, "broadcast_window_update") and hasattr(web, "NanSafeEncoder"):
        return "0.3"
    return None


def install(compact=False):
    """Patch the running process's visdom server; prints one line saying whether it did.
    compact: the page served is page_patch.py's, which takes line appends as `vizlab_append`."""
    try:
        import visdom
        from visdom.server.handlers import web_handlers as web
        flavour = _expected(web)
    except Exception as exc:  # an unknown visdom: never stop the server from starting
        flavour, visdom = None, None
        print(f"vizlab: fast appends off ({exc!r}); running stock Visdom", file=sys.stderr, flush=True)
        return False
    version = getattr(visdom, "__version__", "?")
    if flavour is None:
        print(f"vizlab: fast appends off: visdom {version}'s update handler is not the expected one; "
              "running stock Visdom", file=sys.stderr, flush=True)
        return False
    handler = web.UpdateHandler
    stock = handler.wrap_func
    pane_text = PaneText()
    show_stats = bool(os.environ.get(STATS_ENV))

    def wrap_func(req, args):
        try:
            send = _prepare(req, args)
        except Exception:  # _Unsupported, or an append stock visdom may refuse: its own code
            stats["stock"] += 1  # decides what is stored (nothing was stored or sent here)
            stock(req, args)
        else:
            send()
            stats["fast"] += 1
        if show_stats:
            print(f"vizlab fast-append stats: fast={stats['fast']} stock={stats['stock']}", flush=True)

    def _prepare(req, args):
        """A function that stores and sends the append, once everything that can fail is done."""
        eid = web.extract_eid(args) if "win" in args else None
        jsons = req.state.get(eid, {}).get("jsons", {}) if eid is not None else {}
        p = jsons.get(args.get("win"))
        if p is None:
            raise _Unsupported
        # Everything that can fail comes before anything is stored (refused means not stored).
        new, patch, appends = appended_pane(p, args, web.get_rand_id(), pane_text, compact)
        pane = pane_text.text(new)
        # Like visdom: send the smaller of the patch and the whole pane. Only the lengths are
        # compared, and either message shows the same: plain json.dumps (differs from visdom's
        # slower stringify only in writing 2.0 for 2) is close enough to choose.
        whole = len(pane) <= len(json.dumps([patch, appends], separators=(",", ":")))
        message = None   # built only when a page watches this env: no one else receives it
        if not _watched(req, eid):
            pass
        elif whole and flavour == "0.3":
            message = json.dumps(dict(new, eid=eid), cls=web.NanSafeEncoder)
        elif whole:
            message = new    # visdom 0.2's broadcast serializes it
        elif flavour == "0.3":
            message = _window_update_03(args, eid, new, patch, web, appends)
        else:
            message = {"command": "window_update", "win": args["win"], "env": eid,
                       "content": patch, "finalHash": hashlib.md5(pane.encode("utf-8", "surrogatepass")).hexdigest()}
            if appends:
                message["vizlab_append"] = appends

        def send():
            p.update(new)
            if message is not None:
                web.broadcast(req, p if message is new else message, eid)
            req.write(p["id"])
        return send

    handler.wrap_func = staticmethod(wrap_func)
    if flavour == "0.2":   # visdom's own updates (not the fast path) are checked by the page too
        web.hash_md_window = page_hash
    no_autoreload()
    print(f"vizlab: fast appends on (visdom {version}{', compact' if compact else ''})",
          file=sys.stderr, flush=True)
    return True
