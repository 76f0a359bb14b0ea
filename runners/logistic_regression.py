"""Logistic regression, live: the probability of passing an exam after x hours of study.

The lesson: hours x = [1, 2, 3], passed y = [0, 0, 1], sigmoid(Linear(1, 1)), BCE summed,
SGD lr 0.01 for 1000 epochs. Windows: `loss`, and `probability`, P(pass) over 0..10 hours with
the 0.5 decision threshold, redrawn as it learns so the curve visibly sharpens.
"""

import torch
from torch import nn

from vizlab import runner_kit
from vizlab.runner_kit import checkpoint
from vizlab.runner_kit.models import LogisticRegression
from vizlab.palette import BLUE, RED

# The lesson draws the 0.5 decision threshold as a red line; the legend sits in the empty
# bottom right, where P(pass) is near 1.
PROBABILITY_STYLE = {"linecolor": {"P(pass)": BLUE, "threshold 0.5": RED},
                     "dash": {"P(pass)": "solid", "threshold 0.5": "dash"},
                     "layoutopts": {"plotly": {"legend": {"x": 0.98, "xanchor": "right",
                                                          "y": 0.05, "yanchor": "bottom"}}}}


def declare_windows(log):
    """The page, in order: the lesson's figure first, then the loss."""
    log.window("probability", xlabel="hours studied", ylabel="P(pass)", ytickmin=0, ytickmax=1,
               width=440, height=330, **PROBABILITY_STYLE)
    log.window("loss", title="training loss (BCE, summed)", xlabel="epoch", ylabel="BCE", legend=False,
               width=400, height=330)


def main(argv=None):
    parser = runner_kit.runner_parser("logistic_regression", __doc__, epochs=1000, lr=0.01)
    runner_kit.add_log_every(parser, 10, "append the loss every N epochs")
    parser.add_argument("--refresh-every", type=runner_kit.positive_int, default=50,
                        help="redraw the probability curve every N epochs")
    checkpoint.add_options(parser)
    args = parser.parse_args(argv)
    device = runner_kit.pick_device(args.device, parser)
    runner_kit.seed_everything(args.seed)

    # 1. Data: hours studied and whether the exam was passed.
    x = torch.tensor([[1.0], [2.0], [3.0]], device=device)
    y = torch.tensor([[0.0], [0.0], [1.0]], device=device)
    hours = torch.linspace(0, 10, 200, device=device).unsqueeze(1)
    # 2. Model.
    model = LogisticRegression().to(device)
    # 3. Loss and optimizer.
    criterion = nn.BCELoss(reduction="sum")
    optimizer = torch.optim.SGD(model.parameters(), lr=args.lr)
    ckpt = checkpoint.Checkpoint(parser, args, "logistic_regression", model, optimizer, every=args.refresh_every)
    first_epoch = ckpt.resume()

    # 4. Train.
    with runner_kit.open_logger(args, **ckpt.logger_options()) as log:
        declare_windows(log)
        runner_kit.log_hparams(log, args, device=device)
        bar = runner_kit.progress(range(first_epoch, args.epochs + 1), args, desc="logistic_regression", unit="epoch")
        for epoch in bar:
            loss = criterion(model(x), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()

            last = epoch == args.epochs
            if epoch % args.refresh_every == 0 or epoch == 1 or last:
                with torch.no_grad():
                    p_pass = model(hours).flatten().tolist()
                log.line("probability", hours.flatten().tolist(),
                         {"P(pass)": p_pass, "threshold 0.5": [0.5] * len(p_pass)},
                         title=f"P(pass) after epoch {epoch}")
            if epoch % args.log_every == 0 or epoch == 1 or last:
                log.scalar("loss", epoch, loss.item(), trace="train")
                bar.set_postfix(loss=f"{loss.item():.4f}")
            ckpt.save(epoch, log)

        with torch.no_grad():
            final_loss = criterion(model(x), y).item()
    weight, bias = model.linear.weight.item(), model.linear.bias.item()
    # sigmoid(w x + b) = 0.5 where w x + b = 0.
    threshold = -bias / weight if weight else float("nan")
    metrics = {"loss": final_loss, "weight": weight, "bias": bias, "threshold_hours": threshold}
    summary = (f"P(pass) crosses 0.5 at {threshold:.2f} hours; loss {final_loss:.4f}, "
               f"weight {weight:.4f}, bias {bias:.4f} after {args.epochs} epochs")
    return runner_kit.finish("logistic_regression", args, metrics, summary, log)


if __name__ == "__main__":
    main()
