"""Entropy, softmax and cross-entropy, shown in Visdom (lessons 001 and 004).

- `entropy_uniform`, `entropy_peaked`, `entropy_confident`: the lesson's three distributions
  as bar charts, each titled with its entropy (2.0, 1.3568 and 0.0342 bits).
- `cross_entropy`: F.cross_entropy equals F.nll_loss(F.log_softmax), on the lesson's
  784-input linear layer.
- `jacobian`: softmax's Jacobian dp_i/da_j from torch.autograd.grad as a heatmap, checked
  against p_i(1 - p_i) on the diagonal and -p_i p_j off it.

    python runners/softmax_entropy.py --logits 0.8659,0.0540,0.4153
"""

import argparse
import html

import torch
import torch.nn.functional as F

from vizlab import runner_kit

DISTRIBUTIONS = {
    "uniform": [0.25, 0.25, 0.25, 0.25],
    "peaked": [0.1, 0.1, 0.1, 0.7],
    "confident": [0.001, 0.001, 0.001, 0.997],
}
LESSON_LOGITS = "0.8659,0.0540,0.4153"  # seed 004's torch.rand(3)


def logits_list(text):
    """argparse type for comma-separated logits."""
    try:
        values = [float(v) for v in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers like {LESSON_LOGITS}, got {text!r}")
    if len(values) < 2 or not all(abs(v) < float("inf") for v in values):
        raise argparse.ArgumentTypeError(f"need at least two finite logits, got {text!r}")
    return values


def build_parser():
    parser = runner_kit.runner_parser(
        "softmax_entropy",
        "Show entropy examples, the cross-entropy identity and softmax's Jacobian. Nothing trains here.",
        epochs=runner_kit.TRAINS_NOTHING)
    parser.add_argument("--logits", type=logits_list, default=logits_list(LESSON_LOGITS),
                        help="logits whose softmax Jacobian is drawn, comma-separated (write --logits=-1,2 when the first is negative)")
    return parser


def entropy_bits(p):
    return (-p * torch.log2(p)).sum()


def entropy_figure(name, p, bits):
    traces = [{"type": "bar", "name": name, "x": [f"class {i}" for i in range(len(p))], "y": p,
               "text": [f"{v:g}" for v in p], "textposition": "auto"}]
    layout = {"title": f"{name}: H = {bits:.4f} bits", "yaxis": {"range": [0, 1], "title": "p"},
              "xaxis": {"title": "class"}}
    return traces, layout


def cross_entropy_check(device):
    """The lesson's check: one sample, 784 inputs, 10 classes, target 4."""
    x = torch.randn(1, 784, device=device)
    w = torch.randn(10, 784, device=device)
    b = torch.randn(1, 10, device=device)
    logits = x @ w.t() + b
    target = torch.tensor([4], device=device)
    return {
        "cross_entropy": F.cross_entropy(logits, target).item(),
        "nll_loss(log_softmax)": F.nll_loss(F.log_softmax(logits, dim=1), target).item(),
        # The lesson's own spelling; log of a softmax that underflowed to 0 is -inf.
        "nll_loss(log(softmax))": F.nll_loss(torch.log(F.softmax(logits, dim=1)), target).item(),
    }


def cross_entropy_html(losses):
    rows = "".join(f"<tr><td><code>{html.escape(k)}</code></td><td>{v:.6f}</td></tr>"
                   for k, v in losses.items())
    same = losses["cross_entropy"] == losses["nll_loss(log_softmax)"]
    return ("<h4>cross_entropy = nll_loss(log_softmax)</h4>"
            "<p>logits = x @ w.T + b with x ~ N(0,1)<sup>1x784</sup>, w ~ N(0,1)<sup>10x784</sup>, "
            "target class 4:</p>"
            f"<table border='1' cellpadding='3'>{rows}</table>"
            f"<p>cross_entropy {'equals' if same else 'differs from'} nll_loss(log_softmax). "
            "F.cross_entropy does log_softmax and nll_loss in one numerically stable step; "
            "taking log of softmax separately can underflow to -inf for large logits.</p>")


def softmax_jacobian(logits, device):
    """dp_i/da_j row by row with torch.autograd.grad, as the lesson does."""
    a = torch.tensor(logits, device=device, requires_grad=True)
    p = F.softmax(a, dim=0)
    rows = [torch.autograd.grad(p[i], [a], retain_graph=True)[0] for i in range(len(logits))]
    return p.detach(), torch.stack(rows)


def jacobian_figure(p, jacobian):
    n = len(p)
    traces = [{"type": "heatmap", "z": jacobian, "x": [f"a{j}" for j in range(n)],
               "y": [f"p{i}" for i in range(n)], "colorscale": "RdBu", "zmid": 0,
               "texttemplate": "%{z:.4f}", "colorbar": {"title": "dp_i/da_j"}}]
    layout = {"title": "softmax Jacobian dp_i/da_j",
              "yaxis": {"autorange": "reversed", "title": "output"}, "xaxis": {"title": "logit"}}
    return traces, layout


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    device = runner_kit.pick_device(args.device, parser)
    runner_kit.seed_everything(args.seed)

    entropies = {name: entropy_bits(torch.tensor(p, device=device)).item()
                 for name, p in DISTRIBUTIONS.items()}
    losses = cross_entropy_check(device)
    p, jacobian = softmax_jacobian(args.logits, device)
    closed_form = torch.diag(p) - torch.outer(p, p)
    jacobian_error = (jacobian - closed_form).abs().max().item()
    p, jacobian = p.cpu().tolist(), jacobian.cpu().tolist()

    with runner_kit.open_logger(args) as log:
        for name, dist in DISTRIBUTIONS.items():
            log.figure(f"entropy_{name}", *entropy_figure(name, dist, entropies[name]), width=400, height=300)
        log.text("cross_entropy", cross_entropy_html(losses), title="cross-entropy", width=500, height=250)
        log.figure("jacobian", *jacobian_figure(p, jacobian), width=380, height=340)
        log.text("jacobian_check",
                 f"<p>logits {args.logits} &rarr; p = {[round(v, 4) for v in p]}</p>"
                 "<p>closed form: p_i(1 - p_i) on the diagonal, -p_i p_j off it; "
                 f"max |autograd - closed form| = {jacobian_error:.2e}</p>",
                 title="Jacobian check", width=340, height=160)

    metrics = {"entropy_bits": entropies, "cross_entropy": losses, "softmax": p,
               "jacobian": jacobian, "jacobian_max_error": jacobian_error}
    summary = ("entropy " + ", ".join(f"{n} {h:.4f}" for n, h in entropies.items())
               + f" bits; cross_entropy {losses['cross_entropy']:.4f} = nll_loss(log_softmax) "
               f"{losses['nll_loss(log_softmax)']:.4f}; Jacobian error {jacobian_error:.1e}")
    return runner_kit.finish("softmax_entropy", args, metrics, summary, log)


if __name__ == "__main__":
    main()
