"""Activation functions and their gradients, live in Visdom (lessons 004 and 001).

Plots sigmoid, tanh, ReLU, LeakyReLU, SELU and softplus on [-10, 10] in the `activations`
window and their derivatives, computed with torch.autograd.grad, in the `gradients` window,
so the vanishing gradient of sigmoid and tanh at large |x| is there to see.

    python runners/activations.py --points 401
"""

import torch
import torch.nn.functional as F

from vizlab import runner_kit

ACTIVATIONS = {
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "relu": F.relu,
    "leaky_relu": lambda x: F.leaky_relu(x, negative_slope=0.01),
    "selu": F.selu,
    "softplus": F.softplus,
}


def build_parser():
    parser = runner_kit.runner_parser(
        "activations",
        "Plot activation functions and their autograd derivatives. Nothing trains here.",
        epochs=runner_kit.TRAINS_NOTHING)
    parser.add_argument("--points", type=int, default=401,
                        help="sample points on [-XMAX, XMAX] (odd counts include x = 0)")
    parser.add_argument("--xmax", type=runner_kit.positive_float, default=10.0, help="plot x in [-XMAX, XMAX]")
    return parser


def lesson_html(grads, x):
    """The lesson's points, with the figures this run measured."""
    at_edge = {name: g[-1].item() for name, g in grads.items()}
    peak = {name: g.max().item() for name, g in grads.items()}
    edge = x[-1].item()
    return (
        "<h4>Activations and their gradients</h4><ul>"
        f"<li><b>sigmoid</b> squashes R into (0, 1); its gradient s(1-s) peaks at {peak['sigmoid']:.4f} "
        f"and is {at_edge['sigmoid']:.2e} at x = {edge:g}: saturated units barely learn "
        "(vanishing gradient).</li>"
        f"<li><b>tanh</b> maps into (-1, 1), zero-centred; gradient 1-t² peaks at {peak['tanh']:.4f} "
        f"but is {at_edge['tanh']:.2e} at x = {edge:g}: it saturates too.</li>"
        "<li><b>ReLU</b>: gradient exactly 1 for x &gt; 0 (no shrinking), 0 for x &lt; 0 "
        "(a unit stuck there is dead).</li>"
        "<li><b>LeakyReLU</b> keeps a small slope (0.01) for x &lt; 0 so no unit dies.</li>"
        "<li><b>SELU</b> scales and smooths the negative side to keep activations normalized.</li>"
        "<li><b>softplus</b> log(1+eˣ) is a smooth ReLU; its derivative is the sigmoid.</li>"
        "<li>One <code>torch.autograd.grad(y.sum(), [x])</code> gives every dy_i/dx_i at once, "
        "because each y_i depends on x_i only.</li></ul>"
    )


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.points < 2:
        parser.error(f"--points must be at least 2, got {args.points}")
    device = runner_kit.pick_device(args.device, parser)

    x = torch.linspace(-args.xmax, args.xmax, args.points, device=device, requires_grad=True)
    values, grads = {}, {}
    for name, activation in ACTIVATIONS.items():
        y = activation(x)
        (grads[name],) = torch.autograd.grad(y.sum(), [x])
        values[name] = y.detach()

    xs = x.detach().cpu()
    values = {name: v.cpu() for name, v in values.items()}
    grads = {name: g.cpu() for name, g in grads.items()}
    with runner_kit.open_logger(args) as log:
        log.line("activations", xs, values, title="activations f(x)", xlabel="x", ylabel="f(x)",
                 width=420, height=380)
        log.line("gradients", xs, grads, title="their gradients df/dx (torch.autograd.grad)",
                 xlabel="x", ylabel="df/dx", width=420, height=380)
        log.text("lesson", lesson_html(grads, xs), title="activations: the lesson", width=400, height=380)

    metrics = {
        "points": args.points,
        "max_gradient": {name: g.max().item() for name, g in grads.items()},
        "gradient_at_xmax": {name: g[-1].item() for name, g in grads.items()},
        "gradient_at_minus_xmax": {name: g[0].item() for name, g in grads.items()},
    }
    summary = (f"{len(ACTIVATIONS)} functions on [-{args.xmax:g}, {args.xmax:g}]; "
               f"gradient at x={args.xmax:g}: sigmoid {metrics['gradient_at_xmax']['sigmoid']:.2e}, "
               f"tanh {metrics['gradient_at_xmax']['tanh']:.2e}, relu {metrics['gradient_at_xmax']['relu']:g}")
    return runner_kit.finish("activations", args, metrics, summary, log)


if __name__ == "__main__":
    main()
