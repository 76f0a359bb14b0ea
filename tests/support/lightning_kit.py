"""What the Lightning tests share: a tiny regression data set, and Lightning's own CSVLogger as
the oracle for what a logger was given."""

import csv

import torch


def csv_metrics(csv_logger):
    """{metric: {step: value}} from a CSVLogger's metrics.csv."""
    out = {}
    with open(f"{csv_logger.log_dir}/metrics.csv") as f:
        for row in csv.DictReader(f):
            for key, value in row.items():
                if key != "step" and value:
                    out.setdefault(key, {})[int(row["step"])] = float(value)
    return out


def loaders(batches):
    """(train, val) loaders over 4 * batches seeded points: y = the sum of x's three features."""
    g = torch.Generator().manual_seed(0)
    x = torch.randn(batches * 4, 3, generator=g)
    data = torch.utils.data.TensorDataset(x, x.sum(1, keepdim=True))
    return torch.utils.data.DataLoader(data, batch_size=4), torch.utils.data.DataLoader(data, batch_size=16)
