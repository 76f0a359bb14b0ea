"""Linear regression, live: fit y = w x + b to three points of y = 2x and watch w -> 2, b -> 0.

The lesson: x = [1, 2, 3], y = [2, 4, 6], nn.Linear(1, 1), MSE summed, SGD lr 0.05 for 51 epochs.
Windows: `loss`, `params` (weight and bias with their targets 2 and 0), `fit` (data and fitted line).
"""

import torch
from torch import nn

from vizlab import runner_kit
from vizlab.runner_kit import checkpoint
from vizlab.runner_kit.models import LinearRegression
from vizlab.palette import BLUE, ORANGE

# Each target dashed in its parameter's colour, so the pairs read at a glance.
PARAMS_STYLE = {"linecolor": {"weight": BLUE, "bias": ORANGE, "weight target": BLUE, "bias target": ORANGE},
                "dash": {"weight": "solid", "bias": "solid", "weight target": "dash", "bias target": "dash"}}
# Three points along a rising line leave the top-left corner empty: the legend goes there.
LEGEND_INSIDE = {"plotly": {"legend": {"x": 0.02, "y": 0.98}}}


def declare_windows(log):
    """The page, in order: the lesson's point (w -> 2, b -> 0) first, then the fit and the loss."""
    log.window("params", title="weight → 2, bias → 0 (dashed: targets)", xlabel="epoch", ylabel="value",
               width=420, height=330, **PARAMS_STYLE)
    log.window("fit", xlabel="x", ylabel="y", markers=True, width=340, height=330, layoutopts=LEGEND_INSIDE)
    log.window("loss", title="training loss (MSE, summed)", xlabel="epoch", ylabel="MSE (log scale)",
               ytype="log", legend=False, width=340, height=330)


def main(argv=None):
    parser = runner_kit.runner_parser("linear_regression", __doc__, epochs=51, lr=0.05)
    checkpoint.add_options(parser)
    args = parser.parse_args(argv)
    device = runner_kit.pick_device(args.device, parser)
    runner_kit.seed_everything(args.seed)

    # 1. Data: three points on y = 2x, as column matrices (one feature per row).
    x = torch.tensor([[1.0], [2.0], [3.0]], device=device)
    y = 2 * x
    # 2. Model.
    model = LinearRegression().to(device)
    # 3. Loss and optimizer.
    criterion = nn.MSELoss(reduction="sum")
    optimizer = torch.optim.SGD(model.parameters(), lr=args.lr)
    ckpt = checkpoint.Checkpoint(parser, args, "linear_regression", model, optimizer)
    first_epoch = ckpt.resume()

    # 4. Train: forward, loss, zero_grad, backward, step; then show where it stands.
    with runner_kit.open_logger(args, **ckpt.logger_options()) as log:
        declare_windows(log)
        runner_kit.log_hparams(log, args, device=device)
        bar = runner_kit.progress(range(first_epoch, args.epochs + 1), args, desc="linear_regression", unit="epoch")
        for epoch in bar:
            loss = criterion(model(x), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()

            # Three data points: syncing to read w and b costs nothing next to the logging.
            weight, bias = model.linear.weight.item(), model.linear.bias.item()
            log.scalars("params", epoch, {"weight": weight, "bias": bias, "weight target": 2.0, "bias target": 0.0})
            log.line("fit", x.flatten().tolist(),
                     {"data (y = 2x)": y.flatten().tolist(), "fit": (weight * x + bias).flatten().tolist()},
                     title=f"data y = 2x and the fit after epoch {epoch}")
            log.scalar("loss", epoch, loss.item(), trace="train")
            bar.set_postfix(loss=f"{loss.item():.4f}", w=f"{weight:.3f}", b=f"{bias:.3f}")
            ckpt.save(epoch, log)

        with torch.no_grad():
            final_loss = criterion(model(x), y).item()
    metrics = {"weight": weight, "bias": bias, "loss": final_loss}
    summary = (f"weight {weight:.4f} (target 2), bias {bias:.4f} (target 0), "
               f"loss {final_loss:.6f} after {args.epochs} epochs")
    return runner_kit.finish("linear_regression", args, metrics, summary, log)


if __name__ == "__main__":
    main()
