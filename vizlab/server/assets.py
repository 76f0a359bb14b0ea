"""`vizlab assets`: Visdom's UI files (JS/CSS/fonts) installed offline, from npm tarballs.

`python -m visdom.server` downloads ~30 files from public CDNs at every start and crashes
offline. It skips the download when every file exists in `visdom/static/` and
`static/version.built` holds `visdom.__version__`. The list of files differs between visdom
versions (0.3 wants MathJax 3, newer react-grid-layout CSS, ...), so this module reads it from the
target visdom's own `server/build.py` (parsed, never imported: importing visdom imports torch) and
maps each URL to a file in an npm package. The files come from the npm registry (`npm pack`,
cached per user), from a folder prepared on a connected machine (`vizlab assets download DIR`,
then `vizlab assets install --from DIR`), or, without npm, from the CDN URLs themselves.
"""

import ast
import importlib.util
import os
import posixpath
import re
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

from vizlab.errors import UserError

VERSION_FILE = "version.built"

# CDN URLs that are not `https://unpkg.com/NAME@VERSION/PATH`: (regex, npm spec, path in tarball);
# \1 / \2 are filled from the match.
CDN_TO_NPM = [
    # Byte-identical to plotly.js's dist/plotly.min.js, in a 3 MB tarball instead of 21 MB.
    (r"https?://cdn\.plot\.ly/plotly-([\d.]+)\.min\.js", r"plotly.js-dist-min@\1", "plotly.min.js"),
    (r"https?://d3js\.org/d3\.v3\.min\.js", "d3@3.5.17", "d3.min.js"),
    (r"https?://d3js\.org/d3-selection-multi\.v1\.js", "d3-selection-multi@1.0.1",
     "build/d3-selection-multi.js"),
    (r"https?://cdnjs\.cloudflare\.com/ajax/libs/mathjax/([\d.]+)/([^?#]+).*", r"mathjax@\1", r"\2"),
]
UNPKG = re.compile(r"https?://unpkg\.com/((?:@[^/]+/)?[^@/]+@[^/]+)(?:/([^?#]*))?")
# unpkg serves a package's main file for a URL without a path.
UNPKG_MAIN = {"classnames": "index.js"}


class AssetError(UserError):
    """A problem with Visdom's UI files the user can fix; the message says how."""


def _visdom_dir():
    # find_spec locates the package without importing it (importing visdom imports torch: seconds).
    spec = importlib.util.find_spec("visdom")
    if spec is None:
        raise AssetError("visdom is not installed: run `make setup` or `pip install -e .`")
    return Path(spec.origin).parent


def visdom_dir_of(python):
    """The visdom package folder of another interpreter (e.g. a Python 3.12 venv with visdom 0.3)."""
    code = "import importlib.util as u; s = u.find_spec('visdom'); print(s.origin if s else '')"
    try:
        done = subprocess.run([python, "-c", code], capture_output=True, text=True, timeout=60)
    except OSError as exc:
        raise AssetError(f"cannot run {python}: {exc}") from None
    if done.returncode != 0 or not done.stdout.strip():
        raise AssetError(f"{python} has no visdom installed: `{python} -m pip install visdom`")
    return Path(done.stdout.strip()).parent


def resolve_visdom_dir(visdom_dir=None, python=None, static_dir=None):
    """The visdom package whose download list counts: named, another interpreter's, the one owning
    `static_dir`, else this interpreter's."""
    if visdom_dir:
        return Path(visdom_dir)
    if python:
        return visdom_dir_of(python)
    if static_dir and (Path(static_dir).parent / "server" / "build.py").is_file():
        return Path(static_dir).parent
    return _visdom_dir()


def visdom_version(visdom_dir=None):
    """visdom.__version__, read the way visdom reads it (its VERSION file)."""
    try:
        return (Path(visdom_dir or _visdom_dir()) / "VERSION").read_text().strip()
    except OSError:
        return "no_version_file"


def default_static_dir():
    """The installed visdom package's static/ folder."""
    return _visdom_dir() / "static"


def default_cache_dir():
    base = os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache")
    return Path(base) / "vizlab" / "npm"


def _literal(node, names):
    """Value of a constant expression of build.py: literals, known names, `%` and `+`."""
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Name):
        return names[node.id]
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Mod, ast.Add)):
        left, right = _literal(node.left, names), _literal(node.right, names)
        return left % right if isinstance(node.op, ast.Mod) else left + right
    if isinstance(node, (ast.List, ast.Tuple)):
        return [_literal(e, names) for e in node.elts]
    if isinstance(node, ast.Dict):
        return {_literal(k, names): _literal(v, names) for k, v in zip(node.keys, node.values)}
    raise ValueError(ast.dump(node))


def download_list(visdom_dir):
    """[(path in static/, URL)] that this visdom's `download_scripts` fetches (its server/build.py)."""
    build = Path(visdom_dir) / "server" / "build.py"
    try:
        tree = ast.parse(build.read_text())
        func = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "download_scripts")
    except (OSError, SyntaxError, StopIteration) as exc:
        raise AssetError(f"cannot read visdom's download list from {build} ({exc}); "
                         "reinstall visdom (`pip install --force-reinstall visdom`)") from None
    names = {}
    for node in func.body:  # top-level constant assignments only (b, ext_files, cdnjs_url, ...)
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            try:
                names[node.targets[0].id] = _literal(node.value, names)
            except (ValueError, KeyError, TypeError):
                pass
    if not {"ext_files", "cdnjs_url", "mathjax_path"} <= names.keys() or VERSION_FILE not in build.read_text():
        raise AssetError(f"{build} is not laid out as vizlab expects (visdom {visdom_version(visdom_dir)}); "
                         "use a visdom vizlab supports (0.2.4 or 0.3.x)")
    files = []
    for url, name in names["ext_files"].items():
        # build.py's rule for the sub-folder.
        sub = "js" if name.endswith((".js", ".js.map")) else "css" if name.endswith(".css") else "fonts"
        files.append((f"{sub}/{name}", url))
    mathjax_dir = posixpath.join(*names["cdnjs_url"].split("/")[-3:])  # e.g. "mathjax/3.2.2/"
    for path in names["mathjax_path"]:
        folder, _, name = path.rpartition("/")
        files.append((posixpath.join("js", mathjax_dir, folder, name.split("?")[0]), names["cdnjs_url"] + path))
    return files


def npm_source(url):
    """(npm package@version, path inside its tarball) holding the file served at `url`."""
    hit = UNPKG.fullmatch(url.split("#")[0])
    if hit:
        spec, path = hit.groups()
        return spec, path or UNPKG_MAIN.get(spec.rsplit("@", 1)[0])
    for pattern, spec, member in CDN_TO_NPM:
        hit = re.fullmatch(pattern, url)
        if hit:
            return hit.expand(spec), hit.expand(member)
    raise AssetError(f"vizlab does not know which npm package holds {url}; "
                     "add it to CDN_TO_NPM in vizlab/server/assets.py")


def assets_for(visdom_dir=None):
    """[(path in static/, npm spec, path in tarball, URL)] for the given (default: installed) visdom."""
    return [(rel, *npm_source(url), url) for rel, url in download_list(visdom_dir or _visdom_dir())]


def missing_files(static_dir, visdom_dir=None):
    """Static paths that are absent or empty, plus version.built if visdom would not trust it."""
    static_dir = Path(static_dir)
    visdom_dir = visdom_dir or resolve_visdom_dir(static_dir=static_dir)
    missing = [rel for rel, _ in download_list(visdom_dir)
               if not (static_dir / rel).is_file() or (static_dir / rel).stat().st_size == 0]
    built = static_dir / VERSION_FILE
    version = visdom_version(visdom_dir)
    # build.py's rule: a version.built other than visdom.__version__ makes the server re-download
    # everything at start (a visdom without a VERSION file never does).
    if version != "no_version_file" and (not built.is_file() or built.read_text().strip() != version):
        missing.append(VERSION_FILE)
    return missing


def _write_atomic(path, data):
    """Write via a temp file + rename so an interrupted install never leaves a truncated file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=path.parent, prefix=".tmp-", delete=False) as tmp:
        tmp.write(data)
    os.replace(tmp.name, path)


def _tarball_name(spec):
    name, version = spec.rsplit("@", 1)
    return f"{name}-{version}.tgz"


def _npm():
    npm = shutil.which("npm")
    if npm is None:
        raise AssetError("npm was not found on PATH")
    return npm


def fetch_tarballs(specs, cache_dir, progress=None):
    """Path of each spec's npm tarball, packing only the ones not yet in `cache_dir`;
    progress(message) hears what is fetched (a long wait offline)."""
    cache_dir = Path(cache_dir)
    cache_dir.mkdir(parents=True, exist_ok=True)
    todo = sorted(s for s in set(specs) if not (cache_dir / _tarball_name(s)).is_file())
    if todo:
        if progress:
            progress(f"fetching {len(todo)} npm package(s): {' '.join(todo)}")
        # Pack into a temp folder first: a failed run must not leave partial tarballs in the cache.
        with tempfile.TemporaryDirectory(dir=cache_dir, prefix=".pack-") as tmp:
            # One quick retry: offline, npm's defaults would retry for over a minute before failing.
            done = subprocess.run([_npm(), "pack", *todo, "--pack-destination", tmp, "--json",
                                   "--fetch-retries=1", "--fetch-retry-mintimeout=2000",
                                   "--fetch-retry-maxtimeout=10000"],
                                  capture_output=True, text=True)
            if done.returncode != 0:
                errors = [line for line in done.stderr.splitlines()
                          if line.startswith("npm error") and "    at " not in line]
                tail = "\n".join(errors[:4])
                raise AssetError(f"`npm pack` failed (exit {done.returncode}):\n{tail}\n"
                                 "Check the connection to the npm registry (npm config get registry), or run\n"
                                 "`vizlab assets download DIR` on a connected machine and "
                                 "`vizlab assets install --from DIR` here.")
            for spec in todo:
                os.replace(Path(tmp) / _tarball_name(spec), cache_dir / _tarball_name(spec))
    return {spec: cache_dir / _tarball_name(spec) for spec in set(specs)}


def extract_from_npm(dest_dir, wanted, cache_dir, progress=None):
    """Write each (static path, spec, member) of `wanted` under dest_dir, one pass per tarball."""
    dest_dir = Path(dest_dir)
    tarballs = fetch_tarballs([spec for _, spec, _, _ in wanted], cache_dir, progress)
    for spec, tarball in sorted(tarballs.items()):
        by_member = {}  # member -> static paths it provides
        for rel, s, member, _ in wanted:
            if s == spec:
                by_member.setdefault(member, []).append(rel)
        with tarfile.open(tarball, "r:gz") as tar:
            for info in tar:
                # npm tarballs put everything under one top folder, usually "package/".
                inner = info.name.split("/", 1)[-1]
                if info.isfile() and inner in by_member:
                    data = tar.extractfile(info).read()
                    for rel in by_member.pop(inner):
                        _write_atomic(dest_dir / rel, data)
        if by_member:
            raise AssetError(f"{tarball} lacks {', '.join(sorted(by_member))}; "
                             f"delete it from the cache ({tarball.parent}) and retry")


def copy_from_dir(source_dir, dest_dir, wanted):
    source_dir = Path(source_dir)
    absent = [rel for rel, *_ in wanted if not (source_dir / rel).is_file()]
    if absent:
        raise AssetError(f"{source_dir} lacks {len(absent)} file(s): {', '.join(absent)}\n"
                         f"Prepare it on a connected machine with `vizlab assets download {source_dir}`.")
    for rel, *_ in wanted:
        _write_atomic(Path(dest_dir) / rel, (source_dir / rel).read_bytes())


def download_from_cdns(dest_dir, wanted):
    """The URLs visdom itself would fetch, for online machines without npm."""
    import requests

    for rel, _, _, url in wanted:
        try:
            reply = requests.get(url, timeout=30, headers={"User-Agent": "vizlab"})
            reply.raise_for_status()
        except requests.RequestException as exc:
            raise AssetError(f"the CDNs visdom downloads from are unreachable ({type(exc).__name__} "
                             f"for {url})") from None
        _write_atomic(Path(dest_dir) / rel, reply.content)


def install(static_dir=None, source_dir=None, cache_dir=None, visdom_dir=None, python=None, progress=None):
    """Make the static folder of the target visdom complete; returns the number of files written.
    progress(message) hears what is fetched and the result (vizlab assets passes print)."""
    progress = progress or (lambda message: None)
    visdom_dir = resolve_visdom_dir(visdom_dir, python, static_dir)
    static_dir = Path(static_dir or visdom_dir / "static")
    cache_dir = cache_dir or default_cache_dir()
    assets = assets_for(visdom_dir)
    version = visdom_version(visdom_dir)
    missing = set(missing_files(static_dir, visdom_dir))
    wanted = [a for a in assets if a[0] in missing]
    if not missing:
        progress(f"all {len(assets)} files of visdom {version} present in {static_dir}")
        return 0
    if wanted:
        if source_dir:
            copy_from_dir(source_dir, static_dir, wanted)
        elif shutil.which("npm"):
            extract_from_npm(static_dir, wanted, cache_dir, progress)
        else:
            try:
                download_from_cdns(static_dir, wanted)
            except AssetError as exc:
                raise AssetError(
                    f"cannot fetch Visdom's UI files: npm is not installed and {exc}.\n"
                    "Either install npm (e.g. `apt-get install npm`) and rerun `vizlab assets install`,\n"
                    "or run `vizlab assets download DIR` on a connected machine, copy DIR here and run\n"
                    "`vizlab assets install --from DIR`."
                ) from None
    # Written last: with it, visdom's server trusts the folder and never downloads.
    if version != "no_version_file":
        _write_atomic(static_dir / VERSION_FILE, version.encode())
    progress(f"installed {len(wanted)} file(s) into {static_dir}; "
          f"all {len(assets)} files of visdom {version} present")
    return len(wanted)


def ensure(progress=None):
    """No blank page: before vizlab starts a server, install this visdom's missing UI files (from
    the npm cache, the registry, else the CDNs); an AssetError naming the one command to run
    when that cannot be done. Returns the number of files written."""
    static_dir = default_static_dir()
    missing = missing_files(static_dir)
    if not missing:
        return 0
    progress = progress or (lambda message: None)
    progress(f"{len(missing)} of Visdom's UI files are missing (its page would be blank): "
             "installing them, as `vizlab assets install` does")
    try:
        return install(static_dir, progress=progress)
    except (AssetError, OSError) as err:
        reason = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise AssetError(f"{len(missing)} of Visdom's UI files are missing, so its page would be blank, "
                         f"and installing them failed ({reason.rstrip('.')}). Run: vizlab assets install "
                         "(offline: `vizlab assets download DIR` on a connected machine, then "
                         "`vizlab assets install --from DIR` here)") from None


def download(dest_dir, cache_dir=None, visdom_dir=None, python=None, progress=None):
    """Fetch every asset of the target visdom from npm into `dest_dir` (static/ layout), for `install --from`."""
    progress = progress or (lambda message: None)
    visdom_dir = resolve_visdom_dir(visdom_dir, python)
    assets = assets_for(visdom_dir)
    extract_from_npm(dest_dir, assets, cache_dir or default_cache_dir(), progress)
    progress(f"wrote {len(assets)} files of visdom {visdom_version(visdom_dir)} into {dest_dir}\n"
             f"on the offline machine (same visdom version): vizlab assets install --from {dest_dir}")


