"""Runs that differ only in their seed, as one group: a mean line and a band (`vizlab compare`).

Runs whose settings are equal except for `key` (default "seed"; `--group-by KEY`) form a group; a
run whose settings lack `key` is a group of its own (a journal without settings is never averaged
with others). Per trace, the group's mean is taken at each x every run of the group has (a gap in
any run leaves that x out), with a band of mean ± the standard deviation over the runs (the
population's: ddof 0, as W&B's and Aim's bands), or their minimum and maximum.
"""

import math

BANDS = ("std", "minmax")


def groups(settings, key="seed"):
    """[[run index, ...], ...]: runs whose settings (dicts) are equal but for `key`, in first-seen order."""
    found = {}
    for i, run in enumerate(settings):
        same = ("own", i) if key not in run else tuple(sorted((k, v) for k, v in run.items() if k != key))
        found.setdefault(same, []).append(i)
    return list(found.values())


def band(series, kind="std"):
    """(xs, mean, lo, hi) of one trace over a group's runs; series: [(xs, ys)] per run."""
    if kind not in BANDS:
        raise ValueError(f"band {kind!r}: use one of {', '.join(BANDS)}")
    maps = [{x: y for x, y in zip(xs, ys) if y is not None} for xs, ys in series]
    shared = sorted(set.intersection(*(set(m) for m in maps))) if maps else []
    mean, lo, hi = [], [], []
    for x in shared:
        values = [m[x] for m in maps]
        mu = math.fsum(values) / len(values)
        if kind == "minmax":
            low, high = min(values), max(values)
        else:
            sd = math.sqrt(math.fsum((v - mu) ** 2 for v in values) / len(values))
            low, high = mu - sd, mu + sd
        mean.append(mu)
        lo.append(low)
        hi.append(high)
    return shared, mean, lo, hi
