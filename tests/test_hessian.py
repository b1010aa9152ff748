"""tfdl.analysis.hessian: exact Hessians, minimal ratio, descent on the gradient norm."""

from tfdl.analysis.hessian import (
    descend_gradient_norm,
    gradient_norm,
    hessian,
    hessian_eigenvalues,
    minimal_ratio,
)

import numpy as np
import pytest
from conftest import linear_model


def test_hessian_of_a_quadratic_loss_is_exact():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(30, 2)).astype(np.float32)
    y = rng.normal(size=(30, 1)).astype(np.float32)
    model = linear_model(x)
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
    model = linear_model(x)
    start = gradient_norm(model, x, y, "mse")
    history = descend_gradient_norm(model, x, y, "mse", steps=600, learning_rate=0.02)
    assert history["gradient_norm"][0] == pytest.approx(start, rel=1e-5)
    assert gradient_norm(model, x, y, "mse") < 1e-2 * start
    design = np.hstack([x, np.ones((40, 1))])
    solution = np.linalg.lstsq(design, y, rcond=None)[0].ravel()
    np.testing.assert_allclose(np.concatenate([w.ravel() for w in model.get_weights()]), solution,
                               atol=1e-2)
