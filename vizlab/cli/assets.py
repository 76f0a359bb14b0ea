"""`vizlab assets install|download|status`: Visdom's UI files, so its server runs offline."""

from pathlib import Path

from vizlab.server.assets import (AssetError, default_cache_dir, download, download_list, install,
                                  missing_files, resolve_visdom_dir, visdom_version)


def _add_target(parser):
    """Which visdom's download list counts (visdom versions ask for different files)."""
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--python", metavar="PY", default=None,
                       help="the visdom of this interpreter, e.g. .venv-visdom03/bin/python "
                            "(default: the visdom owning --static-dir, else this interpreter's)")
    group.add_argument("--visdom-dir", metavar="DIR", default=None,
                       help="the visdom package folder (site-packages/visdom) (default: as --python)")


def add_parser(subparsers):
    p = subparsers.add_parser("assets", help="install Visdom's UI files so its server runs offline")
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    cache_help = "where npm tarballs are cached (default: %(default)s)"
    static_help = "visdom's static folder to fill (default: the target visdom package's static/)"

    inst = actions.add_parser("install", help="put every UI file into visdom's static folder")
    inst.add_argument("--from", dest="source_dir", metavar="DIR", default=None,
                      help="copy from DIR made by `vizlab assets download DIR` (default: fetch with npm)")
    inst.add_argument("--static-dir", metavar="DIR", default=None, help=static_help)
    inst.add_argument("--cache-dir", metavar="DIR", default=str(default_cache_dir()), help=cache_help)
    _add_target(inst)
    inst.set_defaults(func=_run_install)

    down = actions.add_parser("download", help="fetch every UI file from npm into DIR (for air-gapped machines)")
    down.add_argument("dir", metavar="DIR", help="folder to fill, same layout as visdom's static/ (no default)")
    down.add_argument("--cache-dir", metavar="DIR", default=str(default_cache_dir()), help=cache_help)
    _add_target(down)
    down.set_defaults(func=_run_download)

    stat = actions.add_parser("status", help="list missing UI files; exit 1 if any are missing")
    stat.add_argument("--static-dir", metavar="DIR", default=None, help=static_help)
    _add_target(stat)
    stat.set_defaults(func=_run_status)


def _run_install(args):
    try:
        install(args.static_dir, args.source_dir, args.cache_dir, args.visdom_dir, args.python, print)
    except OSError as exc:   # a path the user named cannot be read or written
        raise AssetError(str(exc)) from None
    return 0


def _run_download(args):
    try:
        download(args.dir, args.cache_dir, args.visdom_dir, args.python, print)
    except OSError as exc:
        raise AssetError(str(exc)) from None
    return 0


def _run_status(args):
    visdom_dir = resolve_visdom_dir(args.visdom_dir, args.python, args.static_dir)
    static_dir = Path(args.static_dir or visdom_dir / "static")
    missing = missing_files(static_dir, visdom_dir)
    if not missing:
        print(f"all {len(download_list(visdom_dir))} files of visdom {visdom_version(visdom_dir)} "
              f"present in {static_dir}")
        return 0
    print(f"{len(missing)} missing in {static_dir} (visdom {visdom_version(visdom_dir)}):")
    for rel in missing:
        print(f"  {rel}")
    target = "".join(f" --{k.replace('_', '-')} {v}" for k, v in
                     [("static_dir", args.static_dir), ("python", args.python), ("visdom_dir", args.visdom_dir)] if v)
    print("fix: vizlab assets install" + target)
    return 1
