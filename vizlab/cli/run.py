"""`vizlab run NAME [options]` runs one lesson runner; `vizlab demo` runs them all against a local server."""

import argparse
import importlib
import pkgutil

import vizlab.runners
from vizlab.errors import UsageError, UserError
from vizlab.address import add_address_options
from vizlab.helptext import DefaultsOnce
from vizlab.cli.serve import describe
from vizlab.server.process import ensure_server, state_paths

# Runner -> short but meaningful settings for `vizlab demo`, in lesson order.
# A name with no module in vizlab.runners is skipped, so this table may run ahead of the runners.
# The quick trainers are paced (--pace) so that each can be watched live for about DEMO_PACE s.
DEMO_PACE = 20
PACED = ["--pace", str(DEMO_PACE)]
DEMO_ARGS = {
    "linear_regression": PACED,
    "logistic_regression": PACED,
    "activations": [],
    "softmax_entropy": [],
    "himmelblau": ["--epochs", "4000"] + PACED,
    "optimizers": PACED,
    "mnist_mlp": ["--epochs", "2"],
    "gradient_flow": ["--epochs", "1", "--subset", "20000"],
}


def available_runners():
    """Names of the runner modules in vizlab.runners."""
    return sorted(m.name for m in pkgutil.iter_modules(vizlab.runners.__path__) if not m.name.startswith("_"))


def run_runner(name, argv):
    """Import vizlab.runners.NAME and call its main(argv); returns its metrics dict."""
    return importlib.import_module(f"vizlab.runners.{name}").main(list(argv))


def add_parser(subparsers):
    run = subparsers.add_parser("run", help="run one lesson runner: vizlab run NAME [its options]",
                                description="Run one lesson runner; options after NAME go to the runner "
                                            "(vizlab run mnist_mlp --help lists them).")
    run.add_argument("name", help="runner name, one of: " + ", ".join(available_runners()))
    run.add_argument("runner_args", nargs=argparse.REMAINDER, help="options for the runner")
    run.set_defaults(func=_run)

    demo = subparsers.add_parser("demo", help="run every lesson runner briefly against a local Visdom server",
                                 formatter_class=DefaultsOnce)
    add_address_options(demo, server=False)   # a server is started on that port if none answers
    demo.add_argument("--only", nargs="+", metavar="NAME", default=None,
                      help="run only these runners (None: every runner that exists)")
    demo.set_defaults(func=_demo)


def _run(args):
    names = available_runners()
    if args.name not in names:
        raise UsageError(f"no runner named {args.name!r}; available: {', '.join(names)}")
    run_runner(args.name, args.runner_args)
    return 0


def _demo(args):
    names = [n for n in (args.only or DEMO_ARGS) if n in available_runners()]
    unknown = sorted(set(args.only or ()) - set(available_runners()))
    if unknown:
        raise UsageError(f"no runner named {', '.join(unknown)}; available: {', '.join(available_runners())}")
    url, started = ensure_server(args.port, progress=lambda message: print(message, flush=True))
    print(describe(args.port, state_paths(args.port)[0]) if started else f"Visdom is already running at {url}")
    url = url.replace("127.0.0.1", "localhost")
    failed = []
    for name in names:
        paced = f" (paced: about {DEMO_PACE} s)" if "--pace" in DEMO_ARGS.get(name, []) else ""
        print(f"\n== {name}: watch at {url}/env/{name}{paced}", flush=True)
        try:
            run_runner(name, DEMO_ARGS.get(name, []) + ["--port", str(args.port)])
        except SystemExit as stop:  # a runner's own clear error (e.g. MNIST missing): go on with the rest
            if stop.code:
                failed.append(name)
    print(f"\nAll windows: {url} (pick an environment at the top left)")
    if failed:
        raise UserError(f"{', '.join(failed)} stopped early (see the message above)")
    return 0
