"""MNIST with a 784-200-200-10 perceptron, live: loss, accuracy, throughput and predicted digits.

`--preset lesson` is the tutorial's network and optimizer exactly (kaiming init, ReLU also on the
logits, SGD lr 0.01); the default `sound` preset drops that last ReLU, which can stall training,
and uses SGD with momentum and a cosine learning-rate decay (>= 98 % test accuracy in 10 epochs).
Scale out with `torchrun --nproc_per_node=N runners/mnist_mlp.py` (DistributedDataParallel).
`--compile` compiles the training step (vizlab/runner_kit/compiled.py); on a GPU each step is one CUDA graph replay.
"""

import time

import torch
import torch.nn.functional as F
from torch import nn

from vizlab import runner_kit
from vizlab.runner_kit import checkpoint
from vizlab.runner_kit import distributed
from vizlab.runner_kit.compiled import CompiledSGDTrainer
from vizlab.runner_kit.data import MNIST_MEAN, MNIST_STD, MNISTUnavailable, default_data_dir, load_mnist, shuffled_batches
from vizlab.runner_kit.models import MLP

PRESETS = {
    "sound": dict(relu_on_logits=False, kaiming_init=False, lr=0.1, momentum=0.9, cosine=True),
    "lesson": dict(relu_on_logits=True, kaiming_init=True, lr=0.01, momentum=0.0, cosine=False),
}


def build_parser():
    parser = runner_kit.runner_parser("mnist_mlp", __doc__, epochs=10, lr=None,
                                    lr_help="learning rate (None: the preset's, 0.1 sound, 0.01 lesson)")
    parser.add_argument("--preset", choices=sorted(PRESETS), default="sound",
                        help="sound: no ReLU on the logits, SGD momentum 0.9 + cosine decay; "
                             "lesson: the tutorial's exact network and SGD")
    parser.add_argument("--batch-size", type=runner_kit.positive_int, default=200,
                        help="global batch size (split across torchrun processes)")
    parser.add_argument("--data-dir", default=default_data_dir(),
                        help="folder holding MNIST/raw/ (from $VIZLAB_DATA when set); downloaded when missing")
    parser.add_argument("--subset", type=runner_kit.positive_int, default=None,
                        help="train on only the first N training images (None: all 60000)")
    runner_kit.add_log_every(parser, 20, "append the training loss every N steps")
    parser.add_argument("--samples", type=int, choices=range(8, 65), metavar="{8..64}", default=48,
                        help="test images shown in the samples grid")
    checkpoint.add_options(parser)
    parser.add_argument("--system", action="store_true", help="show CPU, memory and GPU panes (default: off)")
    parser.add_argument("--compile", action="store_true",
                        help="torch.compile the training step; on CUDA run it as one CUDA graph per step "
                             "(one process only; drops a short last batch)")
    return parser


@torch.no_grad()
def evaluate(model, x, y, rank, world_size, chunk=5000):
    """(mean cross-entropy, correct, count) over the test set, each rank scoring its shard."""
    model.eval()
    totals = torch.zeros(3, device=x.device)
    for xb, yb in zip(x[rank::world_size].split(chunk), y[rank::world_size].split(chunk)):
        logits = model(xb)
        totals[0] += F.cross_entropy(logits, yb, reduction="sum")
        totals[1] += (logits.argmax(1) == yb).sum()
        totals[2] += len(yb)
    loss_sum, correct, count = distributed.all_reduce_sum(totals, world_size).tolist()
    return loss_sum / count, int(correct), int(count)


def declare_windows(log, log_every, test_images):
    """The page, in order: the loss and the digits on the first row, then the figures."""
    # Log scale: on a linear one everything after epoch 1 sits on the floor and the test loss
    # creeping up late in training is invisible.
    log.window("loss", title=f"cross-entropy loss (train every {log_every} steps, val per epoch)",
               xlabel="epoch", ylabel="cross-entropy (log scale)", ytype="log", width=530, height=550)
    log.window("samples", kind="images")
    # The trace keeps its name `val` (as in the loss window); the title says which images.
    log.window("accuracy", title=f"test accuracy (%) on the {test_images} test images", xlabel="epoch",
               ylabel="test accuracy (%)", legend=False, width=420, height=300)
    # From 0, so a slow epoch on a busy machine shows its real size, not a cliff.
    log.window("throughput", title="training throughput (samples/s)", xlabel="epoch", legend=False,
               width=420, height=300, layoutopts={"plotly": {"yaxis": {"title": "samples/s", "rangemode": "tozero"}}})


def check_options(parser, args, world_size):
    if args.compile and world_size > 1:
        parser.error("--compile runs in one process for now; drop --compile or start one process")
    if args.compile and (args.checkpoint or args.resume):
        parser.error("--compile keeps its optimizer state inside the compiled step, which checkpoints "
                     "do not hold yet; drop --compile or --checkpoint/--resume")


def load_data(parser, args, device, rank, world_size):
    """The whole set as normalized tensors on the device (no per-sample transforms)."""
    try:
        train_x, train_y, test_x, test_y = distributed.rank_zero_first(
            lambda: load_mnist(args.data_dir, device), rank, world_size)
    except MNISTUnavailable as problem:
        parser.exit(1, f"{parser.prog}: error: {problem}\n" if rank == 0 else "")
    if args.subset:
        train_x, train_y = train_x[: args.subset], train_y[: args.subset]
    return train_x, train_y, test_x, test_y


def epoch_plan(n_train, batch_size, world_size, compile):
    """(batch per rank, steps per epoch, samples per epoch over all ranks)."""
    per_rank_batch = max(1, batch_size // world_size)
    samples_per_epoch = n_train - n_train % world_size
    steps_per_epoch = -(-(samples_per_epoch // world_size) // per_rank_batch)
    if compile:  # fixed shapes: full batches only
        steps_per_epoch = n_train // per_rank_batch
        samples_per_epoch = steps_per_epoch * per_rank_batch
    return per_rank_batch, steps_per_epoch, samples_per_epoch


def build_model(preset, device, world_size):
    """The MLP, and what trains it: wrapped for gradient averaging when torchrun started several processes."""
    model = MLP(relu_on_logits=preset["relu_on_logits"], kaiming_init=preset["kaiming_init"]).to(device)
    if world_size == 1:
        return model, model
    return model, nn.parallel.DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None)


def train_epoch(step_fn, batches, log, epoch, steps_per_epoch, log_every, bar):
    """One epoch of steps; the loss tensor goes to the logger unread (the loop never waits on the device)."""
    for step, idx in enumerate(bar, start=1):
        loss = step_fn(idx)
        if step % log_every == 0:
            log.scalar("loss", epoch - 1 + step / steps_per_epoch, loss.detach(), trace="train")


def show_epoch(log, model, epoch, test_loss, correct, count, throughput, sample_x, sample_y):
    log.scalar("loss", epoch, test_loss, trace="val")
    with torch.no_grad():
        predicted = model(sample_x).argmax(1)
    log.images("samples", sample_x, labels=sample_y, preds=predicted, nrow=8,
               title=f"epoch {epoch}: predicted (true), mistakes marked", mean=MNIST_MEAN, std=MNIST_STD)
    log.scalar("accuracy", epoch, 100.0 * correct / count, trace="val")
    log.scalar("throughput", epoch, throughput, trace="train")


def final_metrics(args, accuracy, test_loss, epoch_seconds, trained_samples, device, world_size,
                  compile_seconds, run_seconds):
    return {"test_accuracy": accuracy, "test_loss": test_loss, "epochs": args.epochs,
            "seconds_per_epoch": sum(epoch_seconds) / len(epoch_seconds),
            "samples_per_second": trained_samples / sum(epoch_seconds),
            "device": str(device), "world_size": world_size, "preset": args.preset,
            "backend": torch.distributed.get_backend() if torch.distributed.is_initialized() else None,
            "compile": args.compile, "compile_seconds": compile_seconds, "run_seconds": run_seconds}


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    preset = PRESETS[args.preset]
    args.lr = preset["lr"] if args.lr is None else args.lr
    rank, world_size, device = distributed.init_distributed(args.device, parser)
    check_options(parser, args, world_size)
    runner_kit.seed_everything(args.seed)
    say = print if rank == 0 and not args.quiet else (lambda *a, **k: None)

    # 1. Data, and how an epoch splits it. Every rank draws the same permutation from its own
    #    generator and keeps its shard of it.
    train_x, train_y, test_x, test_y = load_data(parser, args, device, rank, world_size)
    sample_x, sample_y = test_x[: args.samples], test_y[: args.samples]
    per_rank_batch, steps_per_epoch, samples_per_epoch = epoch_plan(len(train_x), args.batch_size,
                                                                    world_size, args.compile)
    shuffle = torch.Generator(device=device).manual_seed(args.seed)

    # 2. Model.
    model, trained = build_model(preset, device, world_size)

    # 3. Loss and optimizer (with --compile: the same SGD and schedule, as one compiled step).
    criterion = nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=preset["momentum"])
    schedule = (torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=args.epochs * steps_per_epoch)
                if preset["cosine"] else None)
    ckpt = checkpoint.Checkpoint(parser, args, "mnist_mlp", model, optimizer, schedule, generators=[shuffle])
    first_epoch = ckpt.resume()
    started = time.perf_counter()
    compiled = (CompiledSGDTrainer(model, train_x, train_y, per_rank_batch, steps_per_epoch, args.lr,
                                   preset["momentum"], args.epochs * steps_per_epoch, preset["cosine"])
                if args.compile else None)
    compile_seconds = time.perf_counter() - started

    def eager_step(idx):
        loss = criterion(trained(train_x[idx]), train_y[idx])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        if schedule:
            schedule.step()
        return loss

    # 4. Train, then test and show each epoch.
    epoch_seconds, trained_samples = [], 0
    run_started = time.perf_counter()
    with runner_kit.open_logger(args, **ckpt.logger_options()) as log:
        declare_windows(log, args.log_every, len(test_x))
        runner_kit.log_hparams(log, args, device=device, world_size=world_size)
        if args.system:
            log.watch_system(every=2.0)
        for epoch in range(first_epoch, args.epochs + 1):
            trained.train()
            started = time.perf_counter()
            batches = shuffled_batches(len(train_x), per_rank_batch, shuffle, rank, world_size)
            if compiled:
                batches = batches[:steps_per_epoch]
                compiled.new_epoch(batches)
            bar = runner_kit.progress(batches, args, desc=f"epoch {epoch}/{args.epochs}", unit="batch",
                                      leave=False, disable=rank != 0 or args.quiet)
            train_epoch(lambda idx: compiled.step() if compiled else eager_step(idx), batches, log, epoch,
                        steps_per_epoch, args.log_every, bar)
            if device.type == "cuda":
                torch.cuda.synchronize(device)
            epoch_seconds.append(time.perf_counter() - started)
            trained_samples += samples_per_epoch

            test_loss, correct, count = evaluate(model, test_x, test_y, rank, world_size)
            throughput = samples_per_epoch / epoch_seconds[-1]
            show_epoch(log, model, epoch, test_loss, correct, count, throughput, sample_x, sample_y)
            say(f"epoch {epoch}/{args.epochs}: test loss {test_loss:.4f}, accuracy {correct}/{count} "
                f"({100.0 * correct / count:.2f} %), {epoch_seconds[-1]:.2f} s, {throughput:,.0f} samples/s")
            ckpt.save(epoch, log)

    metrics = final_metrics(args, correct / count, test_loss, epoch_seconds, trained_samples, device,
                            world_size, compile_seconds, time.perf_counter() - run_started)
    if rank == 0:
        runner_kit.finish("mnist_mlp", args, metrics,
                          f"test accuracy {100 * metrics['test_accuracy']:.2f} % (loss {test_loss:.4f}) after "
                          f"{args.epochs} epochs, {args.preset} preset, {metrics['seconds_per_epoch']:.2f} s/epoch, "
                          f"{metrics['samples_per_second']:,.0f} samples/s on {device} x{world_size}", log)
    if torch.distributed.is_initialized():
        torch.distributed.destroy_process_group()
    return metrics


if __name__ == "__main__":
    main()
