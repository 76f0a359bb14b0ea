"""`vizlab assets`: Visdom's UI files (JS/CSS/fonts) installed offline, from npm tarballs.

`python -m visdom.server` downloads ~30 files from public CDNs at every start and crashes
offline. It skips the download when every file exists in `visdom/static/` and
`static/version.built` holds `visdom.__version__`. This module puts exactly those files there,
from the npm registry (`npm pack`, cached per user) or from a folder prepared on a connected
machine (`vizlab assets download DIR`, then `vizlab assets install --from DIR`).
"""

import importlib.util
import os
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

from vizlab.errors import UserError

BOOTSTRAP = "bootstrap@3.3.7"
MATHJAX = "mathjax@2.7.5"
LAYOUT_BIN_PACKER = "layout-bin-packer@1.4.0"

# (path in visdom/static, npm package@version, path inside the tarball's top folder).
# The list visdom 0.2.4's own downloader fetches (visdom/server/build.py, download_scripts).
ASSETS = [
    ("js/jquery.min.js", "jquery@3.1.1", "dist/jquery.min.js"),
    ("js/bootstrap.min.js", BOOTSTRAP, "dist/js/bootstrap.min.js"),
    ("css/bootstrap.min.css", BOOTSTRAP, "dist/css/bootstrap.min.css"),
    ("fonts/glyphicons-halflings-regular.eot", BOOTSTRAP, "dist/fonts/glyphicons-halflings-regular.eot"),
    ("fonts/glyphicons-halflings-regular.woff2", BOOTSTRAP, "dist/fonts/glyphicons-halflings-regular.woff2"),
    ("fonts/glyphicons-halflings-regular.woff", BOOTSTRAP, "dist/fonts/glyphicons-halflings-regular.woff"),
    ("fonts/glyphicons-halflings-regular.ttf", BOOTSTRAP, "dist/fonts/glyphicons-halflings-regular.ttf"),
    # Visdom's downloader keeps the URL fragment in the file name.
    ("fonts/glyphicons-halflings-regular.svg#glyphicons_halflingsregular", BOOTSTRAP,
     "dist/fonts/glyphicons-halflings-regular.svg"),
    ("js/react-react.min.js", "react@16.2.0", "umd/react.production.min.js"),
    ("js/react-dom.min.js", "react-dom@16.2.0", "umd/react-dom.production.min.js"),
    ("js/react-modal.min.js", "react-modal@3.1.10", "dist/react-modal.min.js"),
    # Byte-identical to plotly.js@2.11.1's dist/plotly.min.js, in a 3 MB tarball instead of 21 MB.
    ("js/plotly-plotly.min.js", "plotly.js-dist-min@2.11.1", "plotly.min.js"),
    ("js/sjcl.js", "sjcl@1.0.7", "sjcl.js"),
    ("js/layout_bin_packer.js", LAYOUT_BIN_PACKER, "dist/layout-bin-packer.js"),
    ("js/layout-bin-packer.js.map", LAYOUT_BIN_PACKER, "dist/layout-bin-packer.js.map"),
    ("js/d3.v3.min.js", "d3@3.5.17", "d3.min.js"),
    ("js/d3-selection-multi.v1.js", "d3-selection-multi@1.0.1", "build/d3-selection-multi.js"),
    ("js/saveSvgAsPng.js", "save-svg-as-png@1.4.17", "lib/saveSvgAsPng.js"),
    ("css/react-resizable-styles.css", "react-resizable@1.4.6", "css/styles.css"),
    ("css/react-grid-layout-styles.css", "react-grid-layout@0.16.3", "css/styles.css"),
    ("fonts/classnames", "classnames@2.2.5", "index.js"),
] + [
    (f"js/mathjax/2.7.5/{name}", MATHJAX, name)
    for name in [
        "MathJax.js",
        "config/Safe.js",
        "config/TeX-AMS-MML_HTMLorMML.js",
        "extensions/Safe.js",
        "jax/output/SVG/config.js",
        "jax/output/SVG/jax.js",
        "jax/output/SVG/fonts/TeX/fontdata.js",
        "jax/output/SVG/fonts/TeX/Size1/Regular/Main.js",
    ]
]

VERSION_FILE = "version.built"


class AssetError(UserError):
    """A problem with Visdom's UI files the user can fix; the message says how."""


def _visdom_dir():
    # find_spec locates the package without importing it (importing visdom imports torch: seconds).
    spec = importlib.util.find_spec("visdom")
    if spec is None:
        raise AssetError("visdom is not installed: run `make setup` or `pip install -e .`")
    return Path(spec.origin).parent


def visdom_version():
    """visdom.__version__, read the way visdom reads it (its VERSION file)."""
    try:
        return (_visdom_dir() / "VERSION").read_text().strip()
    except OSError:
        return "no_version_file"


def default_static_dir():
    """The installed visdom package's static/ folder."""
    return _visdom_dir() / "static"


def default_cache_dir():
    base = os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache")
    return Path(base) / "vizlab" / "npm"


def missing_files(static_dir):
    """Static paths that are absent or empty, plus version.built if it lacks the visdom version."""
    static_dir = Path(static_dir)
    missing = [rel for rel, _, _ in ASSETS
               if not (static_dir / rel).is_file() or (static_dir / rel).stat().st_size == 0]
    built = static_dir / VERSION_FILE
    # A wrong version.built makes visdom's server re-download everything at start.
    if not built.is_file() or built.read_text().strip() != visdom_version():
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


def fetch_tarballs(specs, cache_dir):
    """Path of each spec's npm tarball, packing only the ones not yet in `cache_dir`."""
    cache_dir = Path(cache_dir)
    cache_dir.mkdir(parents=True, exist_ok=True)
    todo = sorted(s for s in set(specs) if not (cache_dir / _tarball_name(s)).is_file())
    if todo:
        print(f"fetching {len(todo)} npm package(s): {' '.join(todo)}")
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


def extract_from_npm(dest_dir, wanted, cache_dir):
    """Write each (static path, spec, member) of `wanted` under dest_dir, one pass per tarball."""
    dest_dir = Path(dest_dir)
    tarballs = fetch_tarballs([spec for _, spec, _ in wanted], cache_dir)
    for spec, tarball in sorted(tarballs.items()):
        by_member = {}  # member -> static paths it provides
        for rel, s, member in wanted:
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
    absent = [rel for rel, _, _ in wanted if not (source_dir / rel).is_file()]
    if absent:
        raise AssetError(f"{source_dir} lacks {len(absent)} file(s): {', '.join(absent)}\n"
                         f"Prepare it on a connected machine with `vizlab assets download {source_dir}`.")
    for rel, _, _ in wanted:
        _write_atomic(Path(dest_dir) / rel, (source_dir / rel).read_bytes())


def download_with_visdom(dest_dir, wanted):
    """Visdom's own CDN downloader, for online machines without npm (into a temp dir, then copied)."""
    import requests

    try:  # Visdom's downloader crashes with a traceback when offline: probe first.
        requests.head("https://unpkg.com/", timeout=5)
    except requests.RequestException as exc:
        raise AssetError(f"the CDNs visdom downloads from are unreachable ({type(exc).__name__})")
    from visdom.server.build import download_scripts

    with tempfile.TemporaryDirectory(prefix="vizlab-visdom-dl-") as tmp:
        download_scripts(install_dir=tmp)
        copy_from_dir(Path(tmp) / "static", dest_dir, wanted)


def install(static_dir=None, source_dir=None, cache_dir=None):
    """Make `static_dir` complete; returns the number of files written."""
    static_dir = Path(static_dir or default_static_dir())
    cache_dir = cache_dir or default_cache_dir()
    missing = set(missing_files(static_dir))
    wanted = [a for a in ASSETS if a[0] in missing]
    if not missing:
        print(f"all {len(ASSETS)} files present in {static_dir}")
        return 0
    if wanted:
        if source_dir:
            copy_from_dir(source_dir, static_dir, wanted)
        elif shutil.which("npm"):
            extract_from_npm(static_dir, wanted, cache_dir)
        else:
            try:
                download_with_visdom(static_dir, wanted)
            except AssetError as exc:
                raise AssetError(
                    f"cannot fetch Visdom's UI files: npm is not installed and {exc}.\n"
                    "Either install npm (e.g. `apt-get install npm`) and rerun `vizlab assets install`,\n"
                    "or run `vizlab assets download DIR` on a connected machine, copy DIR here and run\n"
                    "`vizlab assets install --from DIR`."
                ) from None
    # Written last: with it, visdom's server trusts the folder and never downloads.
    _write_atomic(static_dir / VERSION_FILE, visdom_version().encode())
    print(f"installed {len(wanted)} file(s) into {static_dir}; all {len(ASSETS)} files present")
    return len(wanted)


def download(dest_dir, cache_dir=None):
    """Fetch every asset from npm into `dest_dir` (same layout as static/), for `install --from`."""
    extract_from_npm(dest_dir, ASSETS, cache_dir or default_cache_dir())
    print(f"wrote {len(ASSETS)} files into {dest_dir}\n"
          f"on the offline machine: vizlab assets install --from {dest_dir}")


def add_parser(subparsers):
    p = subparsers.add_parser("assets", help="install Visdom's UI files so its server runs offline")
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    cache_help = "where npm tarballs are cached (default: %(default)s)"
    static_help = "visdom's static folder to fill (default: the installed visdom package's static/)"

    inst = actions.add_parser("install", help="put every UI file into visdom's static folder")
    inst.add_argument("--from", dest="source_dir", metavar="DIR", default=None,
                      help="copy from DIR made by `vizlab assets download DIR` (default: fetch with npm)")
    inst.add_argument("--static-dir", metavar="DIR", default=None, help=static_help)
    inst.add_argument("--cache-dir", metavar="DIR", default=str(default_cache_dir()), help=cache_help)
    inst.set_defaults(func=_run_install)

    down = actions.add_parser("download", help="fetch every UI file from npm into DIR (for air-gapped machines)")
    down.add_argument("dir", metavar="DIR", help="folder to fill, same layout as visdom's static/ (no default)")
    down.add_argument("--cache-dir", metavar="DIR", default=str(default_cache_dir()), help=cache_help)
    down.set_defaults(func=_run_download)

    stat = actions.add_parser("status", help="list missing UI files; exit 1 if any are missing")
    stat.add_argument("--static-dir", metavar="DIR", default=None, help=static_help)
    stat.set_defaults(func=_run_status)


def _run_install(args):
    try:
        install(args.static_dir, args.source_dir, args.cache_dir)
    except OSError as exc:   # a path the user named cannot be read or written
        raise AssetError(str(exc)) from None
    return 0


def _run_download(args):
    try:
        download(args.dir, args.cache_dir)
    except OSError as exc:
        raise AssetError(str(exc)) from None
    return 0


def _run_status(args):
    static_dir = Path(args.static_dir or default_static_dir())
    missing = missing_files(static_dir)
    if not missing:
        print(f"all {len(ASSETS)} files present in {static_dir}")
        return 0
    print(f"{len(missing)} missing in {static_dir}:")
    for rel in missing:
        print(f"  {rel}")
    print("fix: vizlab assets install" + (f" --static-dir {args.static_dir}" if args.static_dir else ""))
    return 1
