"""Reading the runs `training.fit` records (its module docstring has the shape): the points
claims and figures read, and whether a run diverged, for claims' `diverged=`.

    last(run)                        # the validation curve's last accuracy
    last(run, "loss", split="test")  # the test curve's last loss
    Claim(..., diverged=any_diverged("lr_0.01"))  # reads m["runs"]["lr_0.01"]
"""

import math


def last(run, key="accuracy", split="val"):
    """The last point of a run's `split` curve: after the last step."""
    return run["curves"][split][key][-1]


def finite(value):
    return value is not None and math.isfinite(value)


def run_diverged(run, split="val"):
    """A run diverged: its training loss, or its `split` curve's last loss, is not finite."""
    return run["diverged"] or not finite(last(run, "loss", split))


def any_diverged(*names, group="runs"):
    """`diverged=` for a claim reading the runs `names` (all, if none) of `m[group]`
    (`group=None`: of `m` itself)."""
    def diverged(m):
        runs = m[group] if group else m
        return any(run_diverged(runs[name]) for name in names or runs)
    return diverged
