"""Lightning's own CSVLogger as the oracle for what a logger was given."""

import csv


def csv_metrics(csv_logger):
    """{metric: {step: value}} from a CSVLogger's metrics.csv."""
    out = {}
    with open(f"{csv_logger.log_dir}/metrics.csv") as f:
        for row in csv.DictReader(f):
            for key, value in row.items():
                if key != "step" and value:
                    out.setdefault(key, {})[int(row["step"])] = float(value)
    return out
