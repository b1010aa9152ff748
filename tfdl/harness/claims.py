"""Claims: a report's printed number or statement, the value we reproduce, and a tolerance
fixed before the run; evaluated per seed, then aggregated.

Example:

    Claim("batch.b10", "batch 10, 5,000 steps: test accuracy", experiment="batch_size",
          reported=0.9277, quote="batch size = 10 ... 0.9277",
          value=lambda m: m["runs"]["10"]["test_accuracy"], check=within(0.9277, 0.02))

Each claim is computed on every seed's own metrics (`value(metrics)` gets one seed's), gets a
per-seed verdict, and the seeds' verdicts decide the claim under its pass rule (default: at least
2 of every 3 seeds). Numbers aggregate as mean ± std over the seeds that could be measured;
categorical values as counts. A diverged seed stays in the count and is shown as such.

This module owns the record's vocabulary: claim kinds and verdicts (`KINDS`, `VERDICTS`).
"""

import collections
import dataclasses
import math
from typing import Any, Callable

# Claim kinds. Only headlines count in "N/M hold".
HEADLINE = "headline"  # a number or statement the report prints, which our run could contradict
OWN = "own check"  # the report gives no number to compare with; the bar is ours
PROTOCOL = "protocol"  # cannot fail by training: arithmetic, our nets' sizes, our own logging
KINDS = (HEADLINE, OWN, PROTOCOL)

# Verdicts, per seed and per claim.
PASS = "PASS"
FAIL = "FAIL"
BETTER = "BETTER"  # beats the report's number where the report is a bound; not a reproduction
REPORT_ERROR = "REPORT ERROR"  # the report's number is wrong (see the claim's `corrected`)
NOT_RUN = "NOT RUN"  # the experiment could not run (e.g. data not provided)
DIVERGED = "diverged"  # per seed: the run the claim reads diverged; it cannot be measured
NOT_MEASURABLE = "not measurable"  # per seed: the value could not be computed
VERDICTS = (PASS, FAIL, BETTER, REPORT_ERROR, NOT_RUN, DIVERGED, NOT_MEASURABLE)

PASS_FRACTION = 2 / 3  # default pass rule: at least 2 of every 3 seeds


@dataclasses.dataclass(frozen=True)
class Check:
    """A pass/fail rule with a readable tolerance."""

    tolerance: str
    test: Callable[[Any], bool]
    categorical: bool = False  # values are choices (a best setting), counted, never averaged
    width: float | None = None  # the tolerance as a distance, where it is one (calibration)

    def __call__(self, value):
        if value is None or (isinstance(value, float) and not math.isfinite(value)):
            return False
        return bool(self.test(value))


def within(target, tol):
    return Check(f"±{tol:g}", lambda v: abs(v - target) <= tol, width=tol)


def within_relative(target, fraction):
    return Check(f"±{fraction:.0%}", lambda v: abs(v - target) <= fraction * abs(target),
                 width=fraction * abs(target))


def at_most(limit):
    return Check(f"≤ {limit:g}", lambda v: v <= limit)


def at_least(limit):
    return Check(f"≥ {limit:g}", lambda v: v >= limit)


def between(low, high):
    return Check(f"in [{low:g}, {high:g}]", lambda v: low <= v <= high)


def equals(expected):
    text = f"= {expected:,}" if isinstance(expected, int) else f"= {expected}"
    return Check(text, lambda v: v == expected, categorical=True)


def is_true():
    return Check("holds", lambda v: v is True, categorical=True)


class NotRun(str):
    """A claim value saying why its experiment could not run (e.g. "not run: data not
    provided"). The row shows the reason, is neither PASS nor FAIL, and does not
    count against the exit status."""


def required_passes(seeds, fraction=PASS_FRACTION):
    """How many of `seeds` seeds must pass for a claim to hold (1 of 1, 2 of 2, 2 of 3)."""
    return max(1, math.ceil(seeds * fraction - 1e-9))


def _is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _top_level_diverged(metrics):
    return isinstance(metrics, dict) and metrics.get("diverged") is True


@dataclasses.dataclass(frozen=True)
class Claim:
    """One check of a report's result.

    Args:
        id: short stable name, e.g. "init.best_variance".
        text: the claim as a reader would say it.
        experiment: the experiment whose metrics it reads.
        reported: what the report printed for this run (where it prints a sequence, the
            last value), or a short text for a qualitative claim.
        value: function of ONE seed's metrics giving the reproduced value.
        check: the `Check` deciding each seed's verdict.
        kind: HEADLINE (default), OWN (no number in the report: the bar is ours) or
            PROTOCOL (cannot fail by training: arithmetic, our nets' sizes, our logging).
        quote: the report's own text the reported value rests on, verbatim (line breaks
            and runs of spaces may differ); required for a headline with a number.
        note: shown under the table (e.g. why a reported number is wrong).
        profiles: the profiles whose protocol can test it; a number printed for the
            report's full protocol is not checked on the quick profile's short runs.
        data_label: optional function of the metrics naming the data the run used
            (e.g. "stand-in"); it is appended to the row's text in brackets.
        checks: optional `{data label: Check}`: the tolerance for each kind of data;
            `check` applies to labels not listed.
        reported_for: optional `{data label: value}`: what the row shows as reported
            for that data (the number the check uses), e.g. a stand-in's own bar.
        diverged: function of one seed's metrics, True when the run this claim reads
            diverged (that seed's verdict is then "diverged"). Default: the metrics'
            top-level "diverged" flag. Pass `lambda m: False` for a claim that a
            divergence satisfies.
        corrected: the right value where the report's number is wrong; `check` tests
            against it and the claim's verdict is REPORT ERROR, with the check's
            verdict beside it.
        better: a `Check` for values that beat the report's number beyond its tolerance
            where the report is a bound (verdict BETTER, which does not count as holding).
        pass_fraction: the claim holds when at least ceil(pass_fraction × seeds) seeds
            pass (default 2 of 3), declared before the run.
        categorical: the values are choices (e.g. the best batch size), shown as counts
            over seeds and never averaged. Default: the check's (`equals`, `is_true`).
    """

    id: str
    text: str
    experiment: str
    reported: Any
    value: Callable[[dict], Any]
    check: Check
    kind: str = HEADLINE
    quote: str = ""
    note: str = ""
    profiles: tuple = ("full", "quick")
    data_label: Callable[[dict], str] | None = None
    checks: dict | None = None
    reported_for: dict | None = None
    diverged: Callable[[dict], bool] | None = None
    corrected: Any = None
    better: Check | None = None
    pass_fraction: float = PASS_FRACTION
    categorical: bool | None = None

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"claim {self.id}: kind {self.kind!r} is not one of {KINDS}")

    def applies_to(self, profile):
        return profile in self.profiles

    def seed_verdict(self, metrics):
        """`(value, verdict)` of one seed's metrics."""
        try:
            if (self.diverged or _top_level_diverged)(metrics):
                return None, DIVERGED
        except (KeyError, IndexError, TypeError):
            pass
        try:
            value = self.value(metrics)
        except (KeyError, IndexError, TypeError, ValueError, ZeroDivisionError):
            return None, NOT_MEASURABLE
        if isinstance(value, NotRun):
            return str(value), NOT_RUN
        if value is None or (isinstance(value, float) and not math.isfinite(value)):
            return None, NOT_MEASURABLE
        if self.better is not None and self.better(value):
            return value, BETTER
        return value, PASS if self.check(value) else FAIL

    def evaluate(self, seed_metrics):
        """The headline row of `{seed: metrics}`: per-seed values and verdicts, their
        aggregate and the claim's verdict."""
        claim = self._labelled(seed_metrics)
        per_seed = []
        for seed, metrics in seed_metrics.items():
            value, verdict = claim.seed_verdict(metrics)
            per_seed.append({"seed": int(seed), "value": value, "verdict": verdict})
        return claim._row(per_seed)

    def _labelled(self, seed_metrics):
        """This claim with the text, check and reported value for the data the run used."""
        if self.data_label is None:
            return self
        labels = set()
        for metrics in seed_metrics.values():
            try:
                labels.add(self.data_label(metrics))
            except (KeyError, IndexError, TypeError, ValueError):
                pass
        if len(labels) != 1:
            return self
        (label,) = labels
        return dataclasses.replace(
            self, text=f"{self.text} [{label}]", check=(self.checks or {}).get(label, self.check),
            reported=(self.reported_for or {}).get(label, self.reported),
            data_label=None, checks=None, reported_for=None)

    def _row(self, per_seed):
        verdicts = collections.Counter(s["verdict"] for s in per_seed)
        seeds = len(per_seed)
        measured = [s["value"] for s in per_seed if s["verdict"] in (PASS, FAIL, BETTER)]
        row = {"id": self.id, "claim": self.text, "experiment": self.experiment,
               "kind": self.kind, "reported": self.reported, "quote": self.quote,
               "tolerance": self.check.tolerance, "note": self.note, "seeds": seeds,
               "per_seed": per_seed, "verdicts": dict(verdicts),
               "required": required_passes(seeds, self.pass_fraction),
               "measured": len(measured)}
        categorical = self.check.categorical if self.categorical is None else self.categorical
        row.update(aggregate(measured, categorical))
        if verdicts[NOT_RUN] == seeds:
            row["reproduced"] = per_seed[0]["value"] if per_seed else None
            row["verdict"] = NOT_RUN
        elif verdicts[PASS] >= row["required"]:
            row["verdict"] = PASS
        elif verdicts[BETTER] and verdicts[PASS] + verdicts[BETTER] >= row["required"]:
            row["verdict"] = BETTER
        else:
            row["verdict"] = FAIL
        if self.corrected is not None:
            row["corrected"] = self.corrected
            row["corrected_verdict"] = row["verdict"]
            row["verdict"] = REPORT_ERROR
        return row


def aggregate(values, categorical=False):
    """`{"reproduced", "std", "counts"}` of the measured per-seed values: numbers as mean and
    sample std (None for one value); choices and anything not a number as the most common
    value with the count of each."""
    if not values:
        return {"reproduced": None, "std": None, "counts": None}
    if not categorical and all(_is_number(v) for v in values):
        mean = sum(values) / len(values)
        if all(isinstance(v, int) for v in values) and len(set(values)) == 1:
            mean = values[0]
        std = None
        if len(values) > 1:
            std = math.sqrt(sum((v - mean) ** 2 for v in values) / (len(values) - 1))
        return {"reproduced": mean, "std": std, "counts": None}
    counts = collections.Counter(_hashable(v) for v in values).most_common()
    return {"reproduced": counts[0][0], "std": None, "counts": [[v, n] for v, n in counts]}


def _hashable(value):
    return tuple(value) if isinstance(value, list) else value


def holds(row):
    """True when the row's claim holds: PASS (REPORT ERROR rows: the corrected check)."""
    verdict = row.get("corrected_verdict") if row["verdict"] == REPORT_ERROR else row["verdict"]
    return verdict == PASS
