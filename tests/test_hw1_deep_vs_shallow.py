"""Report 002 (Clemson HW1): the new library pieces on tiny models, and the quick profile."""

import keras
import numpy as np
import pytest

from tfdl import callbacks as cb
from tfdl import claims, training
from tfdl.budget import budget_widths, mlp_params
from tfdl.hessian import (descend_gradient_norm, gradient_norm, hessian, hessian_eigenvalues,
                          minimal_ratio)
from tfdl.interpolation import interpolate_weights, interpolation_curve
from tfdl.models import count_params, mlp
from tfdl.pca import pca
from tfdl.sensitivity import input_sensitivity


# ## Parameter budgets: the report's four budgets, exact counts of the built models

@pytest.mark.parametrize("input_dim, outputs, depth, target, expected", [
    (1, 1, 1, 750, [250]),
    (1, 1, 3, 750, [18, 18, 18]),
    (1, 1, 5, 750, [12, 13, 13, 13, 13]),
    (784, 10, 1, 23_880, [30]),
    (784, 10, 3, 23_880, [28, 28, 28]),
    (784, 10, 5, 23_880, [26, 26, 26, 26, 26]),
    (784, 10, 2, 8_175, [10, 10]),
    (784, 10, 2, 16_640, [20, 20]),
])
def test_budget_widths_hit_the_reports_budgets_within_2_percent(input_dim, outputs, depth,
                                                                target, expected):
    widths = budget_widths(input_dim, outputs, depth, target)
    assert widths == expected
    model = mlp(input_dim, widths, outputs)
    assert count_params(model) == mlp_params(input_dim, widths, outputs)
    assert abs(count_params(model) - target) <= 0.02 * target


def test_budget_widths_refuses_an_unreachable_budget():
    # 784-w-w-10 has at least 784*4 + ... = 3,210 parameters at w = 4 and 2,415 at w = 3.
    with pytest.raises(ValueError, match="within 2%"):
        budget_widths(784, 10, 2, 2_800)


def test_mlp_params_counts_weights_and_biases():
    assert mlp_params(1, [5, 3], 1) == 32  # the report's PCA net
    assert mlp_params(784, [30], 10) == 784 * 30 + 30 + 30 * 10 + 10


# ## PCA and weight trajectories

def test_pca_of_points_on_a_line_explains_everything():
    t = np.linspace(-1, 1, 50)[:, None]
    direction = np.array([[3.0, 4.0, 0.0]]) / 5
    projected, explained = pca(t * direction + 7.0, components=2)
    np.testing.assert_allclose(explained, [1.0, 0.0], atol=1e-12)
    np.testing.assert_allclose(np.abs(projected[:, 0]), np.abs(t[:, 0]), atol=1e-12)


def test_pca_explained_variance_of_synthetic_trajectories():
    rng = np.random.default_rng(0)
    # 8 series in 20-D whose motion spans two axes with variances 4 and 1, plus tiny noise.
    basis = np.linalg.qr(rng.normal(size=(20, 20)))[0][:, :2]
    steps = rng.normal(size=(8 * 31, 2)) * [2.0, 1.0]
    rows = steps @ basis.T + 1e-3 * rng.normal(size=(8 * 31, 20))
    _, explained = pca(rows, components=2)
    sample = np.var(steps, axis=0, ddof=0)
    np.testing.assert_allclose(explained.sum(), 1.0, atol=1e-4)
    np.testing.assert_allclose(explained[0] / explained[1], sample.max() / sample.min(), rtol=0.05)


def test_weight_trajectory_records_the_flattened_kernels_every_n_steps():
    x = np.linspace(-1, 1, 40, dtype=np.float32)[:, None]
    model = training.compile_model(mlp(1, [5, 3], 1, output_activation=None), 0.01, loss="mse",
                                   optimizer="adam", metrics=())
    initial_layer_2 = model.get_layer("layer_2").kernel.numpy().ravel()
    layer = cb.WeightTrajectory(every=2, layers=["layer_2"], kernels_only=True)
    whole = cb.WeightTrajectory(every=2)
    training.train(model, x, np.cos(x), batch_size=10, steps=6, callbacks=[layer, whole])
    assert layer.steps == [0, 2, 4, 6] and layer.matrix.shape == (4, 15)
    assert whole.matrix.shape == (4, 32)
    np.testing.assert_array_equal(layer.matrix[0], initial_layer_2)
    np.testing.assert_array_equal(layer.matrix[-1], model.get_layer("layer_2").kernel.numpy().ravel())
    assert np.linalg.norm(layer.matrix[-1] - layer.matrix[0]) > 0


# ## Hessian and critical points

def _linear_model(x):
    model = keras.Sequential([keras.Input((x.shape[1],)), keras.layers.Dense(1)])
    model.set_weights([np.array([[0.5], [-1.0]], np.float32), np.array([0.2], np.float32)])
    return model


def test_hessian_of_a_quadratic_loss_is_exact():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(30, 2)).astype(np.float32)
    y = rng.normal(size=(30, 1)).astype(np.float32)
    model = _linear_model(x)
    design = np.hstack([x, np.ones((30, 1))]).astype(np.float64)
    expected = 2 * design.T @ design / 30  # MSE of a linear model: H = 2/n [X 1]^T [X 1]
    np.testing.assert_allclose(hessian(model, x, y, "mse"), expected, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(hessian_eigenvalues(model, x, y, "mse"),
                               np.linalg.eigvalsh(expected), rtol=1e-4, atol=1e-5)
    assert minimal_ratio(hessian_eigenvalues(model, x, y, "mse")) == 1.0


def test_minimal_ratio_counts_positive_eigenvalues():
    assert minimal_ratio([-2.0, -0.1, 0.5, 3.0]) == 0.5
    assert minimal_ratio([1e-9, 1.0], tol=1e-6) == 0.5


def test_gradient_norm_descent_reaches_the_least_squares_solution():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(40, 2)).astype(np.float32)
    y = (x @ np.array([[1.5], [-0.5]]) + 0.3 + 0.1 * rng.normal(size=(40, 1))).astype(np.float32)
    model = _linear_model(x)
    start = gradient_norm(model, x, y, "mse")
    history = descend_gradient_norm(model, x, y, "mse", steps=600, learning_rate=0.02)
    assert history["gradient_norm"][0] == pytest.approx(start, rel=1e-5)
    assert gradient_norm(model, x, y, "mse") < 1e-2 * start
    design = np.hstack([x, np.ones((40, 1))])
    solution = np.linalg.lstsq(design, y, rcond=None)[0].ravel()
    np.testing.assert_allclose(np.concatenate([w.ravel() for w in model.get_weights()]), solution,
                               atol=1e-2)


# ## Gradient norm per iteration, input sensitivity, interpolation

def test_gradient_norms_total_is_the_norm_of_the_whole_gradient():
    x = np.linspace(-1, 1, 20, dtype=np.float32)[:, None]
    y = np.cos(x)
    model = training.compile_model(mlp(1, [4], 1, output_activation=None), 0.01, loss="mse",
                                   optimizer="adam", metrics=())
    norms = cb.GradientNorms((x, y), "mse", every=1)
    training.train(model, x, y, batch_size=20, steps=3, callbacks=[norms])
    assert len(norms.total) == 4
    model_now = norms.total[-1]
    assert model_now == pytest.approx(gradient_norm(model, x, y, "mse"), rel=1e-5)
    kernel_only = np.sqrt(sum(values[-1] ** 2 for values in norms.norms.values()))
    assert model_now >= kernel_only


def test_input_sensitivity_of_a_linear_model_is_known():
    # loss_i = (w.x_i + b - y_i)^2  ->  d loss_i / d x_i = 2 (w.x_i + b - y_i) w
    rng = np.random.default_rng(3)
    x = rng.normal(size=(25, 2)).astype(np.float32)
    y = rng.normal(size=(25, 1)).astype(np.float32)
    model = _linear_model(x)
    w = np.array([0.5, -1.0])
    residual = x @ w + 0.2 - y[:, 0]
    expected = np.sqrt(np.mean((2 * residual) ** 2) * (w @ w))
    assert input_sensitivity(model, x, y, "mse", batch_size=7) == pytest.approx(expected, rel=1e-4)


def test_interpolation_passes_through_both_models():
    rng = np.random.default_rng(4)
    x = rng.normal(size=(60, 3)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int64)
    first = training.compile_model(mlp(3, [4], 2), 0.1)
    second = training.compile_model(mlp(3, [4], 2), 0.1)
    training.train(second, x, y, batch_size=20, steps=30)
    a, b = first.get_weights(), second.get_weights()
    np.testing.assert_allclose(interpolate_weights(a, b, 0.25)[0], 0.75 * a[0] + 0.25 * b[0])
    curve = interpolation_curve(first, a, b, [0.0, 1.0, 2.0], {"train": (x, y)})
    assert curve["alpha"] == [0.0, 1.0, 2.0]
    assert curve["train_loss"][0] == pytest.approx(
        training.evaluate(_with_weights(a), x, y)["loss"], rel=1e-5)
    assert curve["train_loss"][1] == pytest.approx(training.evaluate(second, x, y)["loss"], rel=1e-5)
    np.testing.assert_allclose(first.get_weights()[0], 2 * b[0] - a[0], rtol=1e-5, atol=1e-6)


def _with_weights(weights):
    clone = training.compile_model(mlp(3, [4], 2), 0.1)
    clone.set_weights(weights)
    return clone


def test_descent_ratio_skips_runs_whose_gradient_was_already_zero():
    from tfdl.cli import load_report

    claim = next(c for c in load_report("hw1_deep_vs_shallow").claims
                 if c.id == "t5.gradient_small")
    runs = {"gradient_norm_before": [0.0, 1.0, 2.0], "gradient_norm_after": [0.0, 0.5, 0.2]}
    assert claim.value(runs) == pytest.approx(0.3)  # median of 0.5 and 0.1; 0 / 0 left out


def _claims():
    from tfdl.cli import load_report

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

@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    from tfdl.cli import load_report
    from tfdl.table import format_table

    logdir = tmp_path_factory.mktemp("hw1_deep_vs_shallow")
    record = load_report("hw1_deep_vs_shallow").run(profile="quick", logdir=logdir)
    print(format_table(record))
    return logdir, record


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
    from tfdl.cli import load_report
    from tfdl.table import format_table

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
