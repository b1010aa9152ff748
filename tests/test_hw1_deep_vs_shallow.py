"""Report 002 (Clemson HW1): its claims and the quick profile (library pieces: test_budget.py,
test_pca.py, test_hessian.py, test_sensitivity.py, test_interpolation.py,
test_weight_trajectory.py)."""

from tfdl.harness import claims

import pytest


def test_descent_ratio_skips_runs_whose_gradient_was_already_zero():
    from tfdl.harness.cli import load_report

    claim = next(c for c in load_report("hw1_deep_vs_shallow").claims
                 if c.id == "t5.gradient_small")
    runs = {"gradient_norm_before": [0.0, 1.0, 2.0], "gradient_norm_after": [0.0, 0.5, 0.2]}
    assert claim.value(runs) == pytest.approx(0.3)  # median of 0.5 and 0.1; 0 / 0 left out


def _claims():
    from tfdl.harness.cli import load_report

    return {c.id: c for c in load_report("hw1_deep_vs_shallow").claims}


def test_claim_kinds():
    by_kind = {}
    for claim in _claims().values():
        by_kind.setdefault(claim.kind, set()).add(claim.id)
    # The sizes of the nets we build cannot fail by training; the report gives no number for
    # the explained variance, and its sections on near-zero gradients and interpolation are empty.
    assert by_kind[claims.PROTOCOL] == {
        "t1.params_shallow", "t1.params_middle", "t1.params_deep", "t2.params_shallow",
        "t2.params_middle", "t2.params_deep", "t3.params", "t3.layer_weights", "t3.all_weights",
        "t6.params", "t8.params"}
    assert by_kind[claims.OWN] == {"t3.explained", "t5.gradient_small", "t5.ratio_vs_loss",
                                   "t8.interp_ends"}
    assert len(by_kind[claims.HEADLINE]) == 18


def test_best_batch_is_counted_over_seeds_not_averaged():
    claim = _claims()["t8.best_batch"]
    best_30, best_5 = [0.95, 0.96, 0.94, 0.93, 0.92], [0.96, 0.95, 0.94, 0.93, 0.92]
    runs = {seed: {"batch_size": [5, 30, 150, 600, 1500], "test_accuracy": accuracy}
            for seed, accuracy in (("0", best_30), ("1", best_5), ("2", best_30))}
    row = claim.evaluate(runs)
    # The full run's seeds chose 30 / 5 / 30: shown as counts, not as a mean ± std of sizes.
    assert row["reproduced"] == 30 and row["counts"] == [[30, 2], [5, 1]] and row["std"] is None
    assert row["verdicts"] == {"FAIL": 3} and row["verdict"] == "FAIL"
    runs = {"0": {"batch_size": [5, 30, 150, 600, 1500],
                  "test_accuracy": [0.93, 0.94, 0.96, 0.95, 0.92]}}
    assert claim.evaluate(runs)["verdict"] == "PASS"


# ## The reproduction's quick profile

REPORT_NAME = "hw1_deep_vs_shallow"  # the conftest's quick_run fixture runs it


# Headlines, protocol and own checks a short run can check; the rest are full-profile claims or
# known quick FAILs (see docs/hw1_deep_vs_shallow.md).
QUICK_HEADLINES = [
    "t1.params_shallow", "t1.params_middle", "t1.params_deep", "t1.converge",
    "t1.arcsinh_iterations", "t1.cos_edges", "t2.params_shallow", "t2.params_middle",
    "t2.params_deep", "t2.train_above_test", "t3.params", "t3.layer_weights", "t3.all_weights",
    "t3.moves", "t6.params", "t6.train_falls", "t6.test_rises", "t7.gap",
    "t8.params", "t8.interp_ends",
]


def test_quick_profile_headlines_hold(quick_run):
    _, record = quick_run
    rows = {row["id"]: row for row in record["headlines"]}
    failed = [(i, rows[i]["reproduced"]) for i in QUICK_HEADLINES if not claims.holds(rows[i])]
    assert not failed


def test_quick_profile_figures_written(quick_run):
    logdir, _ = quick_run
    for name in ("fig1_arcsinh_training_loss.png", "fig2_cos_training_loss.png",
                 "fig3_arcsinh_prediction.png", "fig4_cos_prediction.png",
                 "fig5_mnist_training_loss.png", "fig6_mnist_accuracy.png", "fig7_pca_layer.png",
                 "fig8_pca_all.png", "fig9_loss_per_iteration.png", "fig10_gradient_norm.png",
                 "fig11_random_labels.png", "fig12_params_loss.png",
                 "fig13_params_accuracy.png", "fig14_batch_accuracy_sensitivity.png",
                 "fig15_batch_loss_sensitivity.png", "task2-3_minimal_ratio_vs_loss.png",
                 "task3-3_part1_interpolation.png"):
        assert (logdir / name).stat().st_size > 10_000


@pytest.mark.slow
def test_full_profile_reproduces_the_report(tmp_path):
    from tfdl.harness.cli import load_report
    from tfdl.harness.table import format_table

    record = load_report("hw1_deep_vs_shallow").run(profile="full", logdir=tmp_path)
    print(format_table(record))
    rows = {row["id"]: row for row in record["headlines"]}
    assert len(rows) == 33
    failed = sorted(i for i, row in rows.items() if not claims.holds(row))
    assert failed == sorted(KNOWN_FULL_FAILS), failed


# Full-profile claims that did not come out in the recorded full run (seed 0; t3.explained and
# t5.gradient_small are own checks); their causes are in README ("Clemson CPSC 8430 HW1").
KNOWN_FULL_FAILS = ["t1.cos_slower", "t2.test_shallow", "t3.explained", "t5.gradient_small",
                    "t8.best_batch"]
