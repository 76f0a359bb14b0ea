"""Minimizing the Himmelblau function with a torch optimizer, live in Visdom (lesson 004).

f(x, y) = (x² + y - 11)² + (x + y² - 7)² has four minima with f = 0. From (0, 0) Adam with
lr 1e-2 walks to (3, 2) (f = 170 at the start). Windows: `f` (f against step, log scale) and
`path` (the path of (x, y) over a contour map of f on [-6, 6]², the four minima starred).

    python runners/himmelblau.py                   # the lesson: Adam, from (0, 0)
    python runners/himmelblau.py --start=-4,4      # '=' lets the value start with '-'
    python runners/himmelblau.py --all-starts      # four corners, four paths, four minima
"""

import argparse
import sys

import numpy as np
import torch

from vizlab import palette, runner_kit
from vizlab.runner_kit import checkpoint

MINIMA = [(3.0, 2.0), (-2.805118, 3.131312), (-3.779310, -3.283186), (3.584428, -1.848126)]
CORNERS = [(-6.0, 6.0), (6.0, 6.0), (-6.0, -6.0), (6.0, -6.0)]
# Every optimizer here updates each coordinate on its own, which is what lets several
# starts share one tensor (see main); LBFGS does not, so it is not offered.
OPTIMIZERS = {
    "adam": torch.optim.Adam,
    "adamw": torch.optim.AdamW,
    "adamax": torch.optim.Adamax,
    "rmsprop": torch.optim.RMSprop,
    "adagrad": torch.optim.Adagrad,
    "sgd": torch.optim.SGD,
}


def himmelblau(x, y):
    return (x ** 2 + y - 11) ** 2 + (x + y ** 2 - 7) ** 2


def point(text):
    """argparse type for 'x,y'."""
    try:
        x, y = (float(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected two numbers as x,y (e.g. 0,0), got {text!r}")
    if not (np.isfinite(x) and np.isfinite(y)):
        raise argparse.ArgumentTypeError(f"x,y must be finite numbers, got {text!r}")
    return (x, y)


def build_parser():
    parser = runner_kit.runner_parser(
        "himmelblau",
        "Minimize the Himmelblau function and watch the path.", epochs=20000, lr=1e-2,
        epochs_help="optimizer steps")
    starts = parser.add_mutually_exclusive_group()
    starts.add_argument("--start", type=point, default=(0.0, 0.0),
                        help="starting point x,y (write --start=-4,4 when x is negative)")
    starts.add_argument("--all-starts", action="store_true",
                        help=f"start from the four corners {CORNERS} at once")
    parser.add_argument("--optimizer", choices=sorted(OPTIMIZERS), default="adam",
                        help="torch.optim optimizer")
    checkpoint.add_options(parser)
    runner_kit.add_log_every(parser, 50, "send f and the path every N steps (the last step is always sent)")
    parser.add_argument("--draw-every", type=runner_kit.positive_int, default=250,
                        help="redraw the path figure every N steps")
    return parser


def contour_traces(step=0.2):
    """Contour of log10(1 + f) on [-6, 6]²: log because f spans 0 to ~2000 and the four basins
    vanish on a linear scale."""
    axis = np.round(np.arange(-6, 6 + step / 2, step), 6)
    xx, yy = np.meshgrid(axis, axis)  # rows follow y, as Plotly expects z[row=y][col=x]
    z = np.log10(1 + himmelblau(xx, yy))
    return [
        {"type": "contour", "x": axis.tolist(), "y": axis.tolist(), "z": z.round(4).tolist(),
         "colorscale": "Viridis", "ncontours": 25, "name": "log10(1+f)", "showscale": False},
        {"type": "scatter", "mode": "markers", "name": "minima",
         "x": [m[0] for m in MINIMA], "y": [m[1] for m in MINIMA],
         "marker": {"symbol": "star", "size": 14, "color": "white",
                    "line": {"color": "black", "width": 1}}},
    ]


def path_traces(names, path):
    """One line per start: path is a list of (starts, 2) tensors."""
    xy = torch.stack(path).cpu().numpy()  # (points, starts, 2)
    return [{"type": "scatter", "mode": "lines+markers", "name": name,
             "x": xy[:, i, 0].tolist(), "y": xy[:, i, 1].tolist(),
             "line": {"color": color}, "marker": {"size": 4, "color": color}}
            for i, (name, color) in enumerate(zip(names, PATH_COLORS))]


# Each path has the colour of its f curve, so the `f` window's legend names the paths and this
# small pane needs none.
PATH_COLORS = palette.COLORS[:len(CORNERS)]
PATH_LAYOUT = {"title": "path over log10(1 + f), ★ minima", "showlegend": False,
               "xaxis": {"range": [-6, 6], "title": "x"}, "yaxis": {"range": [-6, 6], "title": "y"},
               "margin": {"l": 50, "r": 20, "t": 50, "b": 50}}


PATH_PANE = {"width": 420, "height": 420}
F_FLOOR = 1e-12
F_OPTS = {"title": "f(x, y) against step", "xlabel": "step", "ytype": "log", "width": 480, "height": 420,
          "ylabel": f"f, log scale (f < {F_FLOOR:g} drawn at {F_FLOOR:g})",
          "layoutopts": {"plotly": {"legend": {"x": 0.55, "y": 0.98}}}}


def declare_windows(log, names):
    """The page, in order: the picture of the paths, then f against step."""
    log.window("path", kind="figure", **PATH_PANE)
    # One start: its name goes in the title and the legend's room goes to the plot.
    title = F_OPTS["title"] if len(names) > 1 else f"{F_OPTS['title']}, {names[0]}"
    log.window("f", **dict(F_OPTS, title=title, legend=len(names) > 1,
                           linecolor=dict(zip(names, PATH_COLORS))))


def nearest_minimum(x, y):
    distances = [float(np.hypot(x - mx, y - my)) for mx, my in MINIMA]
    i = int(np.argmin(distances))
    return MINIMA[i], distances[i]


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    device = runner_kit.pick_device(args.device, parser)
    runner_kit.seed_everything(args.seed)

    starts = CORNERS if args.all_starts else [args.start]
    names = [f"start ({x:g}, {y:g})" for x, y in starts]
    # One row per start. f summed over rows has each row's own gradient, and the optimizers
    # update coordinates independently, so this is several independent runs in one loop.
    xy = torch.tensor(starts, dtype=torch.float32, device=device, requires_grad=True)
    optimizer = OPTIMIZERS[args.optimizer]([xy], lr=args.lr)
    background = contour_traces()

    path = [xy.detach().clone()]
    ckpt = checkpoint.Checkpoint(parser, args, "himmelblau", xy, optimizer, every=args.log_every)
    first_step = ckpt.resume(start=0)
    path = ckpt.extra.get("path", path)
    with runner_kit.open_logger(args, **ckpt.logger_options()) as log:
        declare_windows(log, names)
        runner_kit.log_hparams(log, args, device=device)
        if first_step == 0:   # the start on the contours at once (a resumed run has its path)
            log.figure("path", background + path_traces(names, path), PATH_LAYOUT)
        for step in runner_kit.progress(range(first_step, args.epochs + 1), args, desc="himmelblau"):
            f = himmelblau(xy[:, 0], xy[:, 1])  # f at the current point, before this step
            last = step == args.epochs
            if step % args.log_every == 0 or last:
                f_now = f.detach()
                # f reaches exactly 0 (near step 6.5k from (0, 0)), which a log axis cannot show.
                f_shown = f_now.clamp_min(F_FLOOR)
                if step == 0:  # replace any old window, so appends start fresh
                    log.line("f", [0], {n: f_shown[i:i + 1] for i, n in enumerate(names)})
                else:
                    log.scalars("f", step, {n: f_shown[i] for i, n in enumerate(names)})
                    path.append(xy.detach().clone())
                if not torch.isfinite(f_now).all():
                    sys.exit(f"himmelblau: f is {f_now.tolist()} at step {step}: {args.optimizer} "
                             f"with lr {args.lr:g} diverged; try a smaller --lr")
            if step % args.draw_every == 0 or last:
                log.figure("path", background + path_traces(names, path), PATH_LAYOUT)
            if last:  # the last step only measures, so f and the path end at the final point
                break
            optimizer.zero_grad()
            f.sum().backward()
            optimizer.step()
            ckpt.save(step, log, path=path)

    runs = []
    for (x0, y0), (x, y), f_end in zip(starts, xy.tolist(), f.tolist()):
        minimum, distance = nearest_minimum(x, y)
        runs.append({"start": [x0, y0], "end": [x, y], "f": f_end,
                     "nearest_minimum": list(minimum), "distance": distance})
    metrics = {"optimizer": args.optimizer, "lr": args.lr, "steps": args.epochs, "runs": runs}
    ends = "; ".join(f"({r['start'][0]:g}, {r['start'][1]:g}) -> ({r['end'][0]:.6f}, {r['end'][1]:.6f}) "
                     f"f = {r['f']:.3g}" for r in runs)
    return runner_kit.finish("himmelblau", args, metrics,
                             f"{args.optimizer} lr {args.lr:g}, {args.epochs} steps: {ends}", log)


if __name__ == "__main__":
    main()
