"""A Lightning MNIST MLP streaming to Visdom: only the logger line is vizlab's.

    vizlab serve --detach --port 8097          # or any Visdom server
    python examples/lightning_mnist.py --port 8097
"""

import argparse

import lightning as L
import torch
from torch import nn
from torch.nn import functional as F
from torchvision import transforms

from vizlab.runner_kit.data import mnist_datasets
from vizlab.integrations.lightning import VizlabLogger


class MLP(L.LightningModule):
    def __init__(self, lr=0.1, hidden=200):
        super().__init__()
        self.save_hyperparameters()   # -> the "settings" pane
        self.net = nn.Sequential(nn.Flatten(), nn.Linear(784, hidden), nn.ReLU(), nn.Linear(hidden, 10))

    def training_step(self, batch, _):
        x, y = batch
        loss = F.cross_entropy(self.net(x), y)
        self.log("train_loss", loss)                      # window "loss", trace "train"
        return loss

    def validation_step(self, batch, index):
        x, y = batch
        logits = self.net(x)
        self.log("val_loss", F.cross_entropy(logits, y))  # window "loss", trace "val"
        self.log("val_acc", (logits.argmax(1) == y).float().mean())
        if index == 0:   # the VisdomLogger itself, for anything beyond scalars
            self.logger.experiment.images("samples", x[:16], labels=y[:16], preds=logits[:16].argmax(1),
                                          mean=0.1307, std=0.3081, nrow=8)

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=self.hparams.lr, momentum=0.9)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--port", type=int, default=8097, help="Visdom port (default: %(default)s)")
    p.add_argument("--env", default="lightning_mnist", help="Visdom environment (default: %(default)s)")
    p.add_argument("--epochs", type=int, default=3, help="epochs (default: %(default)s)")
    p.add_argument("--data-dir", default=None, help="MNIST folder (default: $VIZLAB_DATA or ~/.vizlab/data)")
    args = p.parse_args()
    torch.manual_seed(0)
    normalize = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.1307,), (0.3081,))])
    train, test = mnist_datasets(args.data_dir, transform=normalize)
    train = torch.utils.data.Subset(train, range(12_000))   # a quick run: 12k images per epoch
    trainer = L.Trainer(max_epochs=args.epochs, logger=VizlabLogger(env=args.env, port=args.port),
                        log_every_n_steps=10, enable_checkpointing=False, accelerator="cpu")
    trainer.fit(MLP(), torch.utils.data.DataLoader(train, batch_size=100, shuffle=True),
                torch.utils.data.DataLoader(torch.utils.data.Subset(test, range(2_000)), batch_size=500))
    trainer.logger.close()   # deliver everything before exit


if __name__ == "__main__":
    main()
