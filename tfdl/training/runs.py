"""Reading the runs `training.fit` records (its module docstring has the shape): the points
claims and figures read, and whether a run diverged, for claims' `diverged=`.

    last(run)                        # the validation curve's last accuracy
    last(run, "loss", split="test")  # the test curve's last loss
    final(run)                       # test accuracy of the trained model, evaluated once
    Claim(..., diverged=any_diverged("lr_0.01"))  # reads m["runs"]["lr_0.01"]
    ctx.log(f"test accuracy {fmt(final(run))}")    # "diverged" where the value is None
"""

import math


def last(run, key="accuracy", split="val"):
    """The last point of a run's `split` curve: after the last step."""
    return run["curves"][split][key][-1]


def final(run, key="accuracy", split="test"):
    """The trained model's `key` on `split`, evaluated once after the last step (`final=`)."""
    return run["final"][split][key]


def fmt(value, spec=".4f"):
    """`value` formatted for a log line: "diverged" for the None a diverged run records (or a
    NaN or infinite value)."""
    return format(value, spec) if finite(value) else "diverged"


def finite(value):
    return value is not None and math.isfinite(value)


def run_diverged(run, split="val"):
    """A run diverged: its training loss, or its `split` curve's last loss, is not finite."""
    return run["diverged"] or not finite(last(run, "loss", split))


def any_diverged(*names, group="runs", split="val"):
    """`diverged=` for a claim reading the runs `names` (all, if none) of `m[group]`
    (`group=None`: of `m` itself); `split` is the curve `run_diverged` reads."""
    def diverged(m):
        runs = m[group] if group else m
        return any(run_diverged(runs[name], split) for name in names or runs)
    return diverged
