"""Small statistics the claims need."""

import numpy as np


def spearman(x, y):
    """Spearman rank correlation of two equal-length sequences (ties get average ranks)."""
    return float(np.corrcoef(_ranks(x), _ranks(y))[0, 1])


def _ranks(values):
    values = np.asarray(values, dtype=float)
    order = values.argsort()
    ranks = np.empty(len(values))
    ranks[order] = np.arange(len(values))
    for v in np.unique(values):
        tied = values == v
        ranks[tied] = ranks[tied].mean()
    return ranks


def step_noise(losses, skip=0.1):
    """Step-to-step noise of a loss curve: std of the differences between consecutive
    steps, after dropping the first `skip` fraction (the initial descent)."""
    losses = np.asarray(losses, dtype=float)
    losses = losses[int(len(losses) * skip):]
    return float(np.std(np.diff(losses))) if len(losses) > 2 else 0.0


def downsample(values, points=500):
    """`[steps, values]`: a per-step curve with consecutive steps averaged into at most
    `points` points, each labelled with its last step (steps count from 1)."""
    values = np.asarray(values, dtype=float)
    chunks = np.array_split(np.arange(1, len(values) + 1), min(points, len(values)))
    return [[int(c[-1]) for c in chunks], [float(values[c - 1].mean()) for c in chunks]]


def mean_nested(items):
    """Element-wise mean of equally shaped nested dicts / lists of numbers.

    Non-numeric leaves (strings, bools) are taken from the first item; None (a
    diverged run) propagates as None.
    """
    first = items[0]
    if isinstance(first, dict):
        return {k: mean_nested([it[k] for it in items if k in it]) for k in first}
    if isinstance(first, (list, tuple)):
        if all(isinstance(it, (list, tuple)) and len(it) == len(first) for it in items):
            return [mean_nested(list(col)) for col in zip(*items)]
        return first
    if isinstance(first, bool) or not isinstance(first, (int, float)) or first is None:
        return first
    if any(it is None for it in items):
        return None
    mean = sum(items) / len(items)
    return mean if isinstance(first, float) or len(set(items)) > 1 else first
