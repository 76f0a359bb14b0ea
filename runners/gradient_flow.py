"""Vanishing gradients, live: one deep MLP on MNIST with sigmoid, tanh and ReLU, trained side by side.

Each network (784, then `--depth - 1` hidden layers of `--hidden`, then 10; same initial weights)
sees the same batches. Windows: `loss` (one trace per activation), and `gradients_sigmoid`,
`gradients_tanh`, `gradients_relu`: each layer's weight-gradient norm, log scale, recorded by
vizlab.logger.gradients.GradientNorms. Sigmoid's derivative is at most 1/4, so its first layers get
almost no gradient and stop learning (梯度弥散); ReLU passes gradient 1.
"""

import torch
from torch import nn

from vizlab import runner_kit
from vizlab.runner_kit import checkpoint
from vizlab.runner_kit.data import MNISTUnavailable, default_data_dir, load_mnist, shuffled_batches
from vizlab.logger.gradients import GradientNorms
from vizlab.palette import GREEN, ORANGE, RED

ACTIVATIONS = {"sigmoid": nn.Sigmoid, "tanh": nn.Tanh, "relu": nn.ReLU}
COLORS = {"sigmoid": RED, "tanh": ORANGE, "relu": GREEN}


def build_parser():
    parser = runner_kit.runner_parser("gradient_flow", __doc__, epochs=2, lr=0.1,
                                    lr_help="SGD learning rate (the same for the three networks)")
    parser.add_argument("--depth", type=int, choices=range(3, 11), metavar="{3..10}", default=8,
                        help="number of Linear layers")
    parser.add_argument("--hidden", type=runner_kit.positive_int, default=128, help="width of the hidden layers")
    parser.add_argument("--batch-size", type=runner_kit.positive_int, default=100, help="batch size")
    parser.add_argument("--data-dir", default=default_data_dir(),
                        help="folder holding MNIST/raw/ (from $VIZLAB_DATA when set); downloaded when missing")
    parser.add_argument("--subset", type=runner_kit.positive_int, default=None,
                        help="train on only the first N training images (None: all 60000)")
    runner_kit.add_log_every(parser, 20, "record the gradient norms and the loss every N steps")
    checkpoint.add_options(parser)
    return parser


def deep_mlp(activation, depth, hidden):
    """Flatten, then `depth` Linear layers with `activation` between them (none on the logits).

    He (kaiming) initialization for every network: it keeps a ReLU network's signal the same size
    through all layers. PyTorch's default init shrinks it at each layer, so at depth 8 even ReLU
    would learn nothing and the comparison would show the init, not the activation.
    """
    sizes = [28 * 28] + [hidden] * (depth - 1) + [10]
    layers = [nn.Flatten()]
    for i, (n_in, n_out) in enumerate(zip(sizes, sizes[1:])):
        linear = nn.Linear(n_in, n_out)
        nn.init.kaiming_normal_(linear.weight, nonlinearity="relu")
        nn.init.zeros_(linear.bias)
        layers.append(linear)
        if i < depth - 1:
            layers.append(ACTIVATIONS[activation]())
    return nn.Sequential(*layers)


@torch.no_grad()
def accuracy(model, x, y):
    model.eval()
    correct = (model(x).argmax(1) == y).float().mean()
    model.train()
    return correct


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    device = runner_kit.pick_device(args.device, parser)
    runner_kit.seed_everything(args.seed)

    # 1. Data: the whole set as normalized tensors on the device.
    try:
        train_x, train_y, test_x, test_y = load_mnist(args.data_dir, device)
    except MNISTUnavailable as problem:
        parser.exit(1, f"{parser.prog}: error: {problem}\n")
    if args.subset:
        train_x, train_y = train_x[: args.subset], train_y[: args.subset]
    steps_per_epoch = -(-len(train_x) // args.batch_size)
    shuffle = torch.Generator(device=device).manual_seed(args.seed)

    # 2. Models: the same architecture and the same initial weights, only the activation differs.
    models = {}
    for name in ACTIVATIONS:
        torch.manual_seed(args.seed)
        models[name] = deep_mlp(name, args.depth, args.hidden).to(device)

    # 3. Loss and optimizers.
    criterion = nn.CrossEntropyLoss()
    optimizers = {name: torch.optim.SGD(m.parameters(), lr=args.lr) for name, m in models.items()}
    ckpt = checkpoint.Checkpoint(parser, args, "gradient_flow", models, optimizers, generators=[shuffle])
    start = ckpt.resume()

    # 4. Train the three side by side on the same batches; the norms are tensors the logger reads later.
    epoch_norms = {name: [] for name in models}   # first layer's norm at each record of the epoch
    first_epoch = ckpt.extra.get("first_epoch", {})
    with runner_kit.open_logger(args, **ckpt.logger_options()) as log:
        # The page, in order: the lesson's point (one gradient pane per network), loss, accuracy, settings.
        watchers = {name: GradientNorms(
            model, log, every=args.log_every, win=f"gradients_{name}", x=lambda s: s / steps_per_epoch,
            title=f"{name}: gradient norm per layer (log scale)", xlabel="epoch", width=420, height=360)
            for name, model in models.items()}
        log.window("loss", title="training loss per activation", xlabel="epoch", ylabel="cross-entropy",
                   linecolor=COLORS, width=420, height=360)
        log.window("accuracy", title="test accuracy (%)", xlabel="epoch", ylabel="%", linecolor=COLORS,
                   width=420, height=360)
        runner_kit.log_hparams(log, args, device=device)
        for watcher in watchers.values():   # a resumed run goes on counting steps where it stopped
            watcher.step = (start - 1) * steps_per_epoch
        for epoch in range(start, args.epochs + 1):
            batches = shuffled_batches(len(train_x), args.batch_size, shuffle)
            bar = runner_kit.progress(batches, args, desc=f"epoch {epoch}/{args.epochs}", unit="batch")
            for step, idx in enumerate(bar, start=1):
                losses = {}
                for name, model in models.items():
                    loss = criterion(model(train_x[idx]), train_y[idx])
                    optimizers[name].zero_grad(set_to_none=True)
                    loss.backward()
                    optimizers[name].step()
                    losses[name] = loss.detach()
                if step % args.log_every == 0:
                    log.scalars("loss", epoch - 1 + step / steps_per_epoch, losses)
                    for name, watcher in watchers.items():
                        epoch_norms[name].append(watcher.last["layer 1"])
            # One read per epoch: the mean first-layer norm over the epoch's records.
            means = {n: torch.stack(v).mean().item() if v else float("nan") for n, v in epoch_norms.items()}
            epoch_norms = {name: [] for name in models}
            if epoch == 1:
                first_epoch = means
            acc = {name: accuracy(model, test_x, test_y).item() for name, model in models.items()}
            log.scalars("accuracy", epoch, {n: 100 * a for n, a in acc.items()})
            if not args.quiet:
                print(f"epoch {epoch}: first-layer gradient norm " +
                      ", ".join(f"{n} {v:.2e}" for n, v in means.items()) +
                      "; test accuracy " + ", ".join(f"{n} {100 * a:.1f} %" for n, a in acc.items()))
            ckpt.save(epoch, log, first_epoch=first_epoch)

    ratio = first_epoch["relu"] / first_epoch["sigmoid"]
    metrics = {"first_layer_grad_norm_epoch1": first_epoch, "relu_over_sigmoid_epoch1": ratio,
               "test_accuracy": acc, "epochs": args.epochs, "depth": args.depth}
    return runner_kit.finish("gradient_flow", args, metrics,
                             f"after epoch 1 the first layer's gradient norm is {ratio:.0f}x smaller with "
                             "sigmoid than with ReLU; test accuracy "
                             + ", ".join(f"{n} {100 * a:.1f} %" for n, a in acc.items()), log)


if __name__ == "__main__":
    main()
