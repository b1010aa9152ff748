"""Reading an experiment's returned metrics without depending on their exact shape.

The reproductions' record shapes change (a run's record becomes `training.fit`'s
`{"final": {split: {loss, accuracy}}, "curves": {...}, "wall_s": ...}`), so the benchmarks
look values up by the last keys of their path instead of by a fixed path:

    find(metrics, "test2.final.test.accuracy", "test2.test_accuracy")   # first that exists
    total_wall_s(metrics)                                               # every "wall_s", summed
"""

import math


def _leaves(tree, path=()):
    """(path, value) of every non-container value and every list of numbers, depth first."""
    if isinstance(tree, dict):
        for key, value in tree.items():
            yield from _leaves(value, (*path, str(key)))
    elif isinstance(tree, (list, tuple)) and tree and all(isinstance(v, (list, tuple, dict))
                                                          for v in tree):
        for index, value in enumerate(tree):
            yield from _leaves(value, (*path, str(index)))
    else:
        yield path, tree


def _number(value):
    """A float from a number, or the last element of a list of numbers (a curve's end)."""
    if isinstance(value, (list, tuple)):
        value = value[-1] if value else None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def find(metrics, *suffixes):
    """The first number whose key path ends with one of `suffixes` ("a.b.c", tried in order;
    for each, the last match in the metrics' order wins, so a list of runs gives its last run);
    a curve gives its last point. None if nothing matches."""
    leaves = list(_leaves(metrics))
    for suffix in suffixes:
        want = tuple(suffix.split("."))
        hits = [_number(v) for p, v in leaves if p[-len(want):] == want]
        hits = [h for h in hits if h is not None]
        if hits:
            return hits[-1]
    return None


def total_wall_s(metrics):
    """The sum of every "wall_s" in the metrics (the training time of each run), or None."""
    values = [_number(v) for p, v in _leaves(metrics) if p and p[-1] == "wall_s"]
    values = [v for v in values if v is not None and math.isfinite(v)]
    return sum(values) if values else None


def fmt(value, spec=".4f"):
    return "n/a" if value is None else format(value, spec)
