import math

from tfdl.training.runs import any_diverged, finite, fmt, last, run_diverged


def _run(val_loss, diverged=False):
    return {"diverged": diverged,
            "curves": {"val": {"loss": [2.3, val_loss], "accuracy": [0.1, 0.8]},
                       "test": {"loss": [2.3, 0.5], "accuracy": [0.1, 0.75]}}}


def test_last_reads_a_curves_final_point():
    run = _run(0.4)
    assert last(run) == 0.8 and last(run, "loss") == 0.4
    assert last(run, split="test") == 0.75


def test_a_run_diverged_when_its_loss_or_its_last_validation_loss_is_not_finite():
    assert not finite(None) and not finite(math.nan) and finite(0.0)
    assert not run_diverged(_run(0.4))
    assert run_diverged(_run(0.4, diverged=True)) and run_diverged(_run(math.inf))
    m = {"runs": {"a": _run(0.4), "b": _run(math.nan)}}
    assert any_diverged()(m) and any_diverged("b")(m) and not any_diverged("a")(m)
    assert any_diverged("a", group=None)({"a": _run(0.4)}) is False


def test_fmt_prints_diverged_for_what_a_diverged_run_records():
    assert fmt(0.91234) == "0.9123" and fmt(0.5, ".2f") == "0.50"
    assert fmt(None) == fmt(math.nan) == fmt(math.inf) == "diverged"
