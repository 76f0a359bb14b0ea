"""One's own training loop with VisdomLogger(config=...): the settings pane, and runs that
`vizlab compare` names by the settings that differ.

    python examples/settings_compare.py --lr 0.01 --journal runs/lr0.01.jsonl
    python examples/settings_compare.py --lr 0.1 --journal runs/lr0.1.jsonl
    vizlab compare runs/lr0.01.jsonl runs/lr0.1.jsonl      # traces named lr=0.01 and lr=0.1
"""

import argparse

import torch
from torch import nn

from vizlab import VisdomLogger

p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
p.add_argument("--lr", type=float, default=0.05)
p.add_argument("--batch-size", type=int, default=64)
p.add_argument("--epochs", type=int, default=20)
p.add_argument("--hidden", type=int, default=32)
p.add_argument("--seed", type=int, default=0)
p.add_argument("--env", default="settings_compare")
p.add_argument("--port", type=int, default=8097)
p.add_argument("--journal", default=None)
args = p.parse_args()

torch.manual_seed(args.seed)
x = torch.linspace(-3, 3, 1024).unsqueeze(1)
y = torch.sin(x) + 0.1 * torch.randn_like(x)
model = nn.Sequential(nn.Linear(1, args.hidden), nn.Tanh(), nn.Linear(args.hidden, 1))
opt = torch.optim.SGD(model.parameters(), lr=args.lr)

# config=args: the settings pane, and what `vizlab compare` names this run by (env and journal
# are where it logs, not what it trains: leave them out)
settings = {k: v for k, v in vars(args).items() if k not in ("env", "port", "journal")}
with VisdomLogger(env=args.env, port=args.port, journal=args.journal, config=settings) as log:
    step = 0
    for epoch in range(args.epochs):
        for batch in torch.randperm(len(x)).split(args.batch_size):
            loss = nn.functional.mse_loss(model(x[batch]), y[batch])
            opt.zero_grad()
            loss.backward()
            opt.step()
            log.scalar("loss", step, loss.detach(), trace="train")
            step += 1
        with torch.no_grad():
            log.scalar("val", epoch + 1, nn.functional.mse_loss(model(x), y).item(), trace="mse")
