"""GET /vizlab/runs: the runs table, a page the servers vizlab starts add beside Visdom's (issue 30).

Every run the server knows (vizlab.run_registry: the runs logged to it, and the journals under
$VIZLAB_LOGDIRS, which `vizlab serve --logdir` sets) in one table: the run with a link to its env
and to a CSV of its points, its state, start, duration, the settings that differ across runs and
the last and best value of each metric; sortable by any column (click its head), filterable by
text; below it a Plotly parcoords figure over the differing settings and the final metrics (the
Plotly of Visdom's own page). The rows are read from the journals when asked (GET
/vizlab/runs.json), each journal from where the last request left it (vizlab.run_summary).
GET /vizlab/runs.csv?id=ID streams one run's points (vizlab.export). The runs ticked in the
table are compared (seed bands, as `vizlab compare`) by POST /vizlab/runs/compare
(runs_compare.py). Access: tornado handlers, so access.py's checks apply as to every page; with
Visdom's login on (--login) a browser must have logged in on Visdom's page. Loaded by file path
into the server process (`vizlab.server.process.server_command`); it puts vizlab's folder on
sys.path for the pure top-level modules it reads with (standard library only).
"""

import hashlib
import json
import os
import sys

import tornado.web

if __package__:   # imported as vizlab.server.runs_page
    from vizlab.server import runs_compare
else:             # loaded by file path into the server (server_command loads runs_compare first)
    import vizlab_runs_compare as runs_compare

PATH = "/vizlab/runs"
LOGDIRS_ENV = "VIZLAB_LOGDIRS"   # os.pathsep-separated folders (vizlab serve --logdir)


def run_id(path):
    return hashlib.sha256(path.encode()).hexdigest()[:12]


class Runs:
    """The known journals of the server on `port` and their summaries, kept between requests."""

    def __init__(self, port, logdirs):
        from vizlab import run_registry, run_summary
        self.port, self.logdirs = port, logdirs
        self.registry, self.summary = run_registry, run_summary
        self.summaries = {}

    def journals(self):
        return list(self.registry.journals(self.port, self.logdirs))

    def table(self):
        rows = []
        for path in self.journals():
            summary = self.summaries.get(path) or self.summaries.setdefault(path, self.summary.Summary(path))
            row = summary.read().row()
            if summary.env is not None:   # an empty journal: no run yet
                rows.append(dict(row, id=run_id(path)))
        return {"rows": rows, "differing": self.summary.differing(rows)}

    def path_of(self, wanted):
        return next((p for p in self.journals() if run_id(p) == wanted), None)


def install(port):
    """Add the runs page to the visdom server this process will start; prints one line."""
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    if root not in sys.path:
        sys.path.append(root)
    try:
        from visdom.server import app as app_module
        from visdom.server.handlers import web_handlers as web
        runs = Runs(port, [d for d in os.environ.get(LOGDIRS_ENV, "").split(os.pathsep) if d])
    except Exception as exc:   # never stop the server from starting
        print(f"vizlab: runs page off ({exc})", file=sys.stderr, flush=True)
        return False

    class Handler(web.BaseHandler):   # Visdom's: its login cookie is the current user
        def refused(self):
            """With Visdom's login on (--login), a browser not logged in is answered 403: True."""
            if not (self.application.login_enabled and not self.current_user):
                return False
            self.set_status(403)
            self.finish("vizlab: log in on the server's Visdom page first\n")
            return True

    class PageHandler(Handler):
        def get(self):
            if self.application.login_enabled and not self.current_user:
                return self.redirect("../")   # Visdom's page asks for the login
            self.set_header("Content-Type", "text/html; charset=utf-8")
            self.finish(PAGE)

    class TableHandler(Handler):
        def get(self):
            if self.refused():
                return
            self.set_header("Content-Type", "application/json")
            self.finish(json.dumps(runs.table()))

    class CsvHandler(Handler):
        def get(self):
            from vizlab import export
            if self.refused():
                return
            path = runs.path_of(self.get_argument("id", ""))
            if path is None:
                raise tornado.web.HTTPError(404)
            self.set_header("Content-Type", "text/csv; charset=utf-8")
            self.set_header("Content-Disposition", f'attachment; filename="{export.run_name(path)}.csv"')
            export.write_csv([path], self)   # csv.writer writes through the handler's write()
            self.finish()

    stock_init = app_module.Application.__init__

    def __init__(self, *args, **kwargs):
        stock_init(self, *args, **kwargs)
        base = self.base_url
        self.add_handlers(r".*", [(base + PATH, PageHandler), (base + PATH + ".json", TableHandler),
                                  (base + PATH + ".csv", CsvHandler),
                                  (base + PATH + runs_compare.PATH, runs_compare.handler(Handler, runs, web))])

    app_module.Application.__init__ = __init__
    print(f"vizlab: runs page on ({PATH})", file=sys.stderr, flush=True)
    return True


PAGE = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>runs</title><link rel="icon" href="data:,">
<script src="../static/js/plotly-plotly.min.js"></script>
<style>
body { font-family: sans-serif; font-size: 13px; margin: 16px; }
table { border-collapse: collapse; }
th, td { padding: 3px 8px; border-bottom: 1px solid #ddd; text-align: left; white-space: nowrap; }
th { cursor: pointer; background: #f4f4f4; user-select: none; }
th.sorted::after { content: attr(data-arrow); }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
#filter { width: 320px; padding: 4px; margin: 0 0 8px 0; }
.state-running { color: #1f77b4; } .state-finished { color: #2ca02c; }
.state-crashed, .state-failed { color: #d62728; } .state-interrupted { color: #ff7f0e; }
#comparebar { margin: 0 0 8px 0; } #comparebar select, #comparebar input { margin: 0 8px 0 2px; }
.error { color: #d62728; }
</style></head>
<body>
<h3>runs on this server <a href="../" style="font-size:12px;font-weight:normal">(Visdom)</a></h3>
<input id="filter" placeholder="filter: any text in a row" oninput="draw()">
<span id="count"></span>
<div id="comparebar">
<button id="compare" onclick="compareChosen()" disabled>compare the ticked runs</button>
group by<select id="groupby" title="runs whose settings differ only in this one are drawn as a mean line over a band"></select>
band<select id="band"><option value="std">mean &plusmn; std</option><option value="minmax">min-max</option></select>
into env<input id="cmpenv" value="compare" size="12">
<span id="compared"></span>
</div>
<table id="runs"><thead></thead><tbody></tbody></table>
<div id="parcoords" style="width:100%;height:420px"></div>
<script>
let data = {rows: [], differing: []}, sortKey = "start", sortDir = -1;
const chosen = new Set();   // ids of the ticked runs, kept across sorting and filtering
const num = v => typeof v === "number" && isFinite(v);
const fmt = v => num(v) ? Number(v.toPrecision(6)).toString() : (v === undefined || v === null ? "-" : String(v));
const when = t => num(t) ? new Date(t * 1000).toLocaleString() : "-";
const dur = s => !num(s) ? "-" : s < 60 ? s.toFixed(1) + " s" : s < 3600 ? (s / 60).toFixed(1) + " min" : (s / 3600).toFixed(2) + " h";
const esc = s => String(s).replace(/[&<>"']/g, c => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[c]));
function metrics() {
  const seen = new Set();
  data.rows.forEach(r => Object.keys(r.metrics).forEach(m => seen.add(m)));
  return Array.from(seen).sort();
}
function columns() {
  const cols = [{key: "run", label: "run", get: r => r.env}, {key: "state", label: "state", get: r => r.state},
                {key: "start", label: "start", get: r => r.start, show: when},
                {key: "duration", label: "duration", get: r => r.duration, show: dur}];
  data.differing.forEach(k => cols.push({key: "s:" + k, label: k, get: r => r.settings[k]}));
  metrics().forEach(m => {
    cols.push({key: "l:" + m, label: m + " last", get: r => (r.metrics[m] || {}).last});
    cols.push({key: "b:" + m, label: m + " best", get: r => (r.metrics[m] || {}).best});
  });
  return cols;
}
function compare(a, b) {
  if (a === b) return 0;
  if (a === undefined || a === null) return 1;
  if (b === undefined || b === null) return -1;
  const x = parseFloat(a), y = parseFloat(b);
  if (!isNaN(x) && !isNaN(y) && String(x) === String(a).trim() && String(y) === String(b).trim()) return x - y;
  return num(a) && num(b) ? a - b : String(a).localeCompare(String(b));
}
function sortBy(key) {
  sortDir = sortKey === key ? -sortDir : 1;
  sortKey = key;
  draw();
}
function draw() {
  const cols = columns(), text = document.getElementById("filter").value.toLowerCase();
  const col = cols.find(c => c.key === sortKey) || cols[2];
  const rows = data.rows.filter(r => !text || cols.map(c => (c.show || fmt)(c.get(r))).join(" ").toLowerCase().includes(text))
    .sort((a, b) => { const c = compare(col.get(a), col.get(b)); return col.get(a) == null || col.get(b) == null ? c : sortDir * c; });
  document.querySelector("#runs thead").innerHTML = "<tr><th title='tick runs to compare them'></th>" + cols.map(c =>
    `<th data-key="${esc(c.key)}" class="${c.key === sortKey ? "sorted" : ""}" data-arrow="${sortDir > 0 ? " \\u25b2" : " \\u25bc"}"
      onclick="sortBy(this.dataset.key)">${esc(c.label)}</th>`).join("") + "</tr>";
  document.querySelector("#runs tbody").innerHTML = rows.map(r => `<tr data-env="${esc(r.env)}"><td>
    <input type="checkbox" class="pick" data-id="${r.id}" ${chosen.has(r.id) ? "checked" : ""} onchange="pick(this)"></td>` + cols.map(c => {
    const v = c.get(r), shown = (c.show || fmt)(v);
    if (c.key === "run") return `<td><a href="../env/${encodeURIComponent(r.env)}">${esc(r.env)}</a>
      <a href="runs.csv?id=${r.id}" style="font-size:11px">csv</a></td>`;
    if (c.key === "state") return `<td class="state-${esc(r.state)}">${esc(r.state)}</td>`;
    return `<td class="${num(v) ? "num" : ""}">${esc(shown)}</td>`;
  }).join("") + "</tr>").join("");
  document.getElementById("count").textContent = `${rows.length} of ${data.rows.length} runs`;
  document.getElementById("compare").disabled = chosen.size < 2;
}
function pick(box) {
  box.checked ? chosen.add(box.dataset.id) : chosen.delete(box.dataset.id);
  document.getElementById("compare").disabled = chosen.size < 2;
}
function groupChoices() {   // seed first, then every setting that differs, then none
  const keys = ["seed"].concat(data.differing.filter(k => k !== "seed"));
  document.getElementById("groupby").innerHTML = keys.map(k => `<option value="${esc(k)}">${esc(k)}</option>`).join("")
    + '<option value="none">none (a line per run)</option>';
}
async function compareChosen() {   // the server draws it with vizlab compare's code, then follows it
  const out = document.getElementById("compared"), value = id => document.getElementById(id).value;
  out.textContent = "comparing...";
  const answer = await fetch("runs/compare", {method: "POST", headers: {"Content-Type": "application/json"},
    body: JSON.stringify({ids: Array.from(chosen), group_by: value("groupby"), band: value("band"), env: value("cmpenv")})});
  const reply = await answer.json().catch(() => ({error: `HTTP ${answer.status}`}));
  out.innerHTML = !answer.ok ? `<span class="error">${esc(reply.error || answer.status)}</span>` :
    `<a id="compared-link" target="_blank" href="../env/${encodeURIComponent(reply.env)}">open ${esc(reply.env)}</a>:
     ${reply.runs} runs in ${reply.windows} windows, following them while they log`;
}
function parcoords() {
  if (!window.Plotly || data.rows.length < 2) return;
  const dims = [];
  data.differing.forEach(k => {
    const values = data.rows.map(r => r.settings[k]);
    if (values.every(v => v !== undefined && !isNaN(parseFloat(v)))) {
      dims.push({label: k, values: values.map(parseFloat)});
    } else {
      const levels = Array.from(new Set(values.map(v => v === undefined ? "-" : v))).sort();
      dims.push({label: k, values: values.map(v => levels.indexOf(v === undefined ? "-" : v)),
                 tickvals: levels.map((_, i) => i), ticktext: levels});
    }
  });
  metrics().filter(m => data.rows.every(r => r.metrics[m])).slice(0, 8)
    .forEach(m => dims.push({label: m, values: data.rows.map(r => r.metrics[m].last)}));
  if (!dims.length) return;
  const metric = dims.slice(data.differing.length);   // coloured by the first metric (else the last setting)
  const colorBy = (metric.find(d => /loss/i.test(d.label)) || metric[0] || dims[dims.length - 1]).values;
  Plotly.newPlot("parcoords", [{type: "parcoords", dimensions: dims,
    line: {color: colorBy, colorscale: "Viridis", showscale: true}}],
    {title: "settings and final metrics", margin: {l: 80, r: 80, t: 80, b: 30}});
}
async function load() {
  data = await (await fetch("runs.json")).json();
  groupChoices();
  draw();
  parcoords();
}
load();
</script></body></html>
"""
