"""torch.optim's optimizers compared on one small problem, live in Visdom (lesson 000).

The same small MLP, from the same initial weights, learns to separate two interleaved spirals
(full batch, so every optimizer sees exactly the same data each step) with SGD, SGD+momentum,
Adagrad, Adadelta, RMSprop, Adam, AdamW, Adamax, ASGD, Rprop and LBFGS. All of them race in
lockstep: one trace per optimizer in the `loss` window, and a comparison table at the end.

    python runners/optimizers.py --optimizers sgd,adam,lbfgs --epochs 300
"""

import argparse
import copy
import math
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

from vizlab import palette, runner_kit
from vizlab.runner_kit import checkpoint

# name -> (optimizer class, settings). Each gets a learning rate that suits it on this problem;
# one shared lr would make the comparison about the lr rather than the method.
OPTIMIZERS = {
    "sgd": (torch.optim.SGD, {"lr": 0.5}),
    "sgd_momentum": (torch.optim.SGD, {"lr": 0.1, "momentum": 0.9}),
    "adagrad": (torch.optim.Adagrad, {"lr": 0.1}),
    "adadelta": (torch.optim.Adadelta, {"lr": 1.0}),
    "rmsprop": (torch.optim.RMSprop, {"lr": 0.01}),
    "adam": (torch.optim.Adam, {"lr": 0.01}),
    "adamw": (torch.optim.AdamW, {"lr": 0.01, "weight_decay": 0.01}),
    "adamax": (torch.optim.Adamax, {"lr": 0.02}),
    "asgd": (torch.optim.ASGD, {"lr": 0.5}),
    "rprop": (torch.optim.Rprop, {"lr": 0.01}),
    # Up to 20 loss evaluations per step, with a line search so the step length adapts.
    "lbfgs": (torch.optim.LBFGS, {"lr": 1.0, "max_iter": 20, "line_search_fn": "strong_wolfe"}),
}


# One colour per optimizer, the same in every run and subset (Plotly's ten repeat after ten, so
# sgd and lbfgs both came out blue). Curves that coincide get a dash: asgd runs on top of sgd, and
# adamw on top of adam, on this problem.
COLORS = dict(zip(OPTIMIZERS, palette.COLORS + (palette.BLACK,)))
DASHED = {"asgd", "adamw"}


def optimizer_list(text):
    """argparse type for a comma-separated subset of OPTIMIZERS."""
    names = [n.strip().lower() for n in text.split(",") if n.strip()]
    unknown = [n for n in names if n not in OPTIMIZERS]
    if unknown:
        raise argparse.ArgumentTypeError(
            f"unknown optimizer(s) {', '.join(unknown)}; choose from {','.join(OPTIMIZERS)}")
    if not names:
        raise argparse.ArgumentTypeError(f"name at least one optimizer: {','.join(OPTIMIZERS)}")
    return list(dict.fromkeys(names))  # keep order, drop repeats


def build_parser():
    parser = runner_kit.runner_parser(
        "optimizers",
        "Train one MLP from the same initial weights with each torch.optim optimizer and compare "
        "the loss curves.", epochs=200, lr=None, epochs_help="full-batch training steps per optimizer",
        lr_help="one learning rate for every optimizer (None: each its own, listed in the table)")
    parser.add_argument("--optimizers", type=optimizer_list, default=list(OPTIMIZERS),
                        help="comma-separated subset of " + ",".join(OPTIMIZERS))
    parser.add_argument("--points", type=int, default=400, help="training points per spiral")
    parser.add_argument("--hidden", type=int, default=32, help="hidden units per layer")
    runner_kit.add_log_every(parser, 2, "send the losses every N steps")
    checkpoint.add_options(parser)
    return parser


def two_spirals(points, generator, noise=0.1):
    """Two interleaved spirals in 2-D, labels 0 and 1: not linearly separable."""
    t = torch.rand(points, generator=generator) * 3 * math.pi + 0.5
    arm = torch.stack([t * torch.cos(t), t * torch.sin(t)], dim=1) / (3 * math.pi)
    x = torch.cat([arm, -arm]) + noise * torch.randn(2 * points, 2, generator=generator) / math.pi
    y = torch.cat([torch.zeros(points), torch.ones(points)]).long()
    return x, y


def make_model(hidden):
    return nn.Sequential(nn.Linear(2, hidden), nn.Tanh(), nn.Linear(hidden, hidden), nn.Tanh(),
                         nn.Linear(hidden, 2))


def settings_text(settings):
    return ", ".join(f"{k}={v}" for k, v in settings.items())


# Scoped to the table's class: a text pane's <style> applies to the whole page.
TABLE_STYLE = ("<style>.optimizers-table{border-collapse:collapse;font-size:13px}"
               ".optimizers-table th,.optimizers-table td{padding:1px 12px 1px 0;text-align:right}"
               ".optimizers-table th{border-bottom:1px solid #999;white-space:nowrap}"
               ".optimizers-table td:nth-child(-n+3),.optimizers-table th:nth-child(-n+3){text-align:left}"
               "</style>")


def comparison_html(rows, steps):
    """The results, best final loss first, each with a sample of its curve's colour and dash."""
    header = ("<tr><th>line</th><th>optimizer</th><th>settings</th><th>loss at 0</th>"
              f"<th>loss at {steps}</th><th>test accuracy</th><th>seconds</th></tr>")
    body = "".join(
        f"<tr><td style='color:{COLORS[r['optimizer']]}'>{'╍╍╍' if r['optimizer'] in DASHED else '━━━'}</td>"
        f"<td>{r['optimizer']}</td><td>{settings_text(r['settings'])}</td><td>{r['start_loss']:.4f}</td>"
        f"<td>{r['final_loss']:.4f}</td><td>{100 * r['test_accuracy']:.1f} %</td>"
        f"<td>{r['seconds']:.2f}</td></tr>" for r in sorted(rows, key=lambda r: r["final_loss"]))
    return (f"<h4>Same MLP, same initial weights, {steps} full-batch steps on two spirals</h4>"
            f"{TABLE_STYLE}<table class='optimizers-table'>{header}{body}</table>"
            "<p>Every optimizer is a <code>torch.optim.Optimizer</code>: <code>zero_grad()</code>, "
            "<code>step(closure)</code>, <code>param_groups</code>, <code>state_dict()</code>. "
            "LBFGS needs the closure because it re-evaluates the loss several times per step.</p>")


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.points < 2 or args.hidden < 1:
        parser.error("--points must be at least 2, --hidden at least 1")
    device = runner_kit.pick_device(args.device, parser)
    # Tiny matrices: on a busy CPU, splitting them across threads costs far more than it
    # saves (measured 54 ms against 0.6 ms per step here), so use one thread, then restore.
    threads = torch.get_num_threads()
    if device.type == "cpu":
        torch.set_num_threads(1)
    try:
        return compare(args, device, parser)
    finally:
        torch.set_num_threads(threads)


def compare(args, device, parser):
    runner_kit.seed_everything(args.seed)

    data = torch.Generator().manual_seed(args.seed)
    x_train, y_train = (t.to(device) for t in two_spirals(args.points, data))
    x_test, y_test = (t.to(device) for t in two_spirals(args.points, data))
    initial = make_model(args.hidden).to(device)

    runs = {}
    for name in args.optimizers:
        model = copy.deepcopy(initial)  # same initial weights for everyone
        cls, settings = OPTIMIZERS[name]
        settings = dict(settings, **({"lr": args.lr} if args.lr is not None else {}))
        runs[name] = {"model": model, "optimizer": cls(model.parameters(), **settings),
                      "settings": settings, "losses": [], "seconds": 0.0}

    ckpt = checkpoint.Checkpoint(parser, args, "optimizers", {n: r["model"] for n, r in runs.items()},
                                 {n: r["optimizer"] for n, r in runs.items()}, every=args.log_every)
    first_step = ckpt.resume(start=0)
    for name, run in runs.items():   # a resumed run keeps each optimizer's loss history and time
        run.update(ckpt.extra.get(name, {}))

    def closure_for(run):
        def closure():
            run["optimizer"].zero_grad()
            loss = F.cross_entropy(run["model"](x_train), y_train)
            loss.backward()
            return loss
        return closure

    with runner_kit.open_logger(args, **ckpt.logger_options()) as log:
        # The page, in order: the curves, then the table (written at the end).
        log.window("loss", title="training loss of each optimizer", xlabel="full-batch step",
                   ylabel="cross-entropy", width=520, height=440, linecolor=COLORS,
                   dash={n: "dash" if n in DASHED else "solid" for n in OPTIMIZERS})
        log.window("comparison", kind="text", title="optimizers compared", width=720, height=440)
        chosen = ", ".join(args.optimizers) if len(args.optimizers) < len(OPTIMIZERS) else f"all {len(OPTIMIZERS)}"
        runner_kit.log_hparams(log, args, device=device, optimizers=chosen,
                               lr=args.lr if args.lr is not None else "each its own (table)")
        for step in runner_kit.progress(range(first_step, args.epochs + 1), args, desc="optimizers"):
            losses = {}
            for name, run in runs.items():
                started = time.perf_counter()
                if step < args.epochs:
                    # step(closure) returns the loss before the update, for every optimizer.
                    loss = run["optimizer"].step(closure_for(run))
                else:  # after the last update: measure only
                    with torch.no_grad():
                        loss = F.cross_entropy(run["model"](x_train), y_train)
                run["seconds"] += time.perf_counter() - started
                losses[name] = loss.detach()
                run["losses"].append(losses[name])
            if step == 0:  # replace any old window; every trace starts at the same loss
                log.line("loss", [0], {n: v.reshape(1) for n, v in losses.items()})
            elif step % args.log_every == 0 or step == args.epochs:
                log.scalars("loss", step, losses)
            if step < args.epochs:   # the last step only measures: a resumed run redoes it
                ckpt.save(step, log, **{n: {"losses": r["losses"], "seconds": r["seconds"]} for n, r in runs.items()})

        rows = []
        for name, run in runs.items():
            with torch.no_grad():
                accuracy = (run["model"](x_test).argmax(dim=1) == y_test).float().mean().item()
            losses = torch.stack(run["losses"]).tolist()
            if not math.isfinite(losses[-1]):
                print(f"optimizers: {name} diverged (loss {losses[-1]}); try a smaller --lr")
            rows.append({"optimizer": name, "settings": run["settings"], "start_loss": losses[0],
                         "final_loss": losses[-1], "test_accuracy": accuracy,
                         "seconds": run["seconds"]})
        log.text("comparison", comparison_html(rows, args.epochs))

    metrics = {"steps": args.epochs, "optimizers": {r["optimizer"]: r for r in rows}}
    best = min(rows, key=lambda r: r["final_loss"])
    summary = (f"{len(rows)} optimizers, {args.epochs} steps from loss {rows[0]['start_loss']:.4f}; "
               f"best {best['optimizer']} loss {best['final_loss']:.4f}, "
               f"test accuracy {100 * best['test_accuracy']:.1f} %")
    return runner_kit.finish("optimizers", args, metrics, summary, log)


if __name__ == "__main__":
    main()
