"""Headline checks: a reported number or statement, the value we reproduce, and a
tolerance fixed before the run.

Example:

    Claim("batch.b10", "batch 10, 5,000 steps: test accuracy", experiment="batch_size",
          reported=0.9277, value=lambda m: m["test_accuracy"]["10"], check=within(0.9277, 0.02))
"""

import dataclasses
import math
from typing import Any, Callable


@dataclasses.dataclass(frozen=True)
class Check:
    """A pass/fail rule with a readable tolerance."""

    tolerance: str
    test: Callable[[Any], bool]

    def __call__(self, value):
        if value is None or (isinstance(value, float) and not math.isfinite(value)):
            return False
        return bool(self.test(value))


def within(target, tol):
    return Check(f"±{tol:g}", lambda v: abs(v - target) <= tol)


def within_relative(target, fraction):
    return Check(f"±{fraction:.0%}", lambda v: abs(v - target) <= fraction * abs(target))


def at_most(limit):
    return Check(f"≤ {limit:g}", lambda v: v <= limit)


def at_least(limit):
    return Check(f"≥ {limit:g}", lambda v: v >= limit)


def between(low, high):
    return Check(f"in [{low:g}, {high:g}]", lambda v: low <= v <= high)


def equals(expected):
    text = f"= {expected:,}" if isinstance(expected, int) else f"= {expected}"
    return Check(text, lambda v: v == expected)


def is_true():
    return Check("holds", lambda v: v is True)


class NotRun(str):
    """A claim value saying why its experiment could not run (e.g. "not run: data not
    provided"). The row shows the reason, is neither PASS nor FAIL, and does not
    count against the exit status."""


@dataclasses.dataclass(frozen=True)
class Claim:
    """One headline of a report.

    Args:
        id: short stable name, e.g. "init.best_variance".
        text: the claim as a reader would say it.
        experiment: the experiment whose metrics it reads.
        reported: what the report printed (number or short text).
        value: function of the experiment's metrics (averaged over seeds) giving the
            reproduced value.
        check: the `Check` deciding pass/fail.
        note: shown under the table (e.g. why a reported number is wrong).
        profiles: the profiles whose protocol can test it; a number printed for the
            report's full protocol is not checked on the quick profile's short runs.
        data_label: optional function of the metrics naming the data the run used
            (e.g. "stand-in"); it is appended to the row's text in brackets.
        checks: optional `{data label: Check}`: the tolerance for each kind of data
            (e.g. wider on a stand-in dataset); `check` applies to labels not listed.
    """

    id: str
    text: str
    experiment: str
    reported: Any
    value: Callable[[dict], Any]
    check: Check
    note: str = ""
    profiles: tuple = ("full", "quick")
    data_label: Callable[[dict], str] | None = None
    checks: dict | None = None

    def applies_to(self, profile):
        return profile in self.profiles

    def evaluate(self, mean_metrics, seed_metrics):
        """Returns the headline record: reproduced value, std over seeds, pass/fail."""
        if self.data_label is not None:
            try:
                label = self.data_label(mean_metrics)
            except (KeyError, IndexError, TypeError, ValueError) as err:
                return self._row(None, None, False, f"could not label the data: {err!r}")
            check = (self.checks or {}).get(label, self.check)
            labelled = dataclasses.replace(self, text=f"{self.text} [{label}]", check=check,
                                           data_label=None, checks=None)
            return labelled.evaluate(mean_metrics, seed_metrics)
        try:
            value = self.value(mean_metrics)
        except (KeyError, IndexError, TypeError, ValueError) as err:
            return self._row(None, None, False, f"could not compute: {err!r}")
        if isinstance(value, NotRun):
            return self._row(str(value), None, None, self.note)
        std = None
        if isinstance(value, (int, float)) and not isinstance(value, bool) and len(seed_metrics) > 1:
            per_seed = []
            for metrics in seed_metrics:
                try:
                    per_seed.append(float(self.value(metrics)))
                except (KeyError, IndexError, TypeError, ValueError):
                    pass
            finite = [v for v in per_seed if math.isfinite(v)]
            if len(finite) > 1:
                mean = sum(finite) / len(finite)
                std = math.sqrt(sum((v - mean) ** 2 for v in finite) / (len(finite) - 1))
        return self._row(value, std, self.check(value), self.note)

    def _row(self, value, std, passed, note):
        if isinstance(value, float) and not math.isfinite(value):
            value = None
        return {"id": self.id, "claim": self.text, "experiment": self.experiment,
                "reported": self.reported, "reproduced": value, "std": std,
                "tolerance": self.check.tolerance, "passed": passed, "note": note}
