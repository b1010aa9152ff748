"""tfdl.analysis.softmax_gradients: the analytic gradient of the softmax cost against centred
differences and GradientTape, on generated data."""

from tfdl.analysis import softmax_gradients as sg

import numpy as np
import pytest
import tensorflow as tf


@pytest.mark.parametrize("lam", [0.0, 0.5])
def test_analytic_gradient_matches_centred_differences_and_tape(lam):
    x, y = sg.random_problem(d=3072, n=20, seed=3)
    w, b = sg.random_parameters(d=3072, seed=4)
    analytic = sg.analytic_gradients(x, y, w, b, lam)
    numerical = sg.numerical_gradients(x, y, w, b, lam, h=1e-3, points=4)
    tape = sg.tape_gradients(x, y, w, b, lam)
    for g_a, g_n, g_t in zip(analytic, numerical, tape):
        assert g_a.shape == g_n.shape == g_t.shape
        assert sg.max_relative_error(g_a, g_n) < 1e-6
        assert sg.max_relative_error(g_a, g_t) < 1e-9
    # 2-point centred differences agree to ~1e-10 absolute (float64 rounding over 2h).
    two_point = sg.numerical_gradients(x, y, w, b, lam, h=1e-5, points=2)
    assert max(np.abs(a - n).max() for a, n in zip(analytic, two_point)) < 1e-9


def test_gradient_check_catches_a_wrong_penalty_gradient():
    x, y = sg.random_problem(d=50, n=20, seed=5)
    w, b = sg.random_parameters(d=50, std=0.5, seed=6)
    lam = 0.5
    grad_w, _ = sg.analytic_gradients(x, y, w, b, lam)
    numerical_w, _ = sg.numerical_gradients(x, y, w, b, lam, h=1e-3, points=4)
    wrong = grad_w - lam * w  # lam * W instead of 2 lam W: the classic slip
    assert sg.max_relative_error(grad_w, numerical_w) < 1e-6
    assert sg.max_relative_error(wrong, numerical_w) > 1e-2


def test_cost_is_cross_entropy_plus_penalty():
    x = tf.constant([[1.0, 0.0], [0.0, 2.0]], tf.float64)  # d=2, n=2
    y = tf.constant([0, 1])
    w = tf.constant([[0.5, 0.0], [0.0, 0.0], [0.0, 1.0]], tf.float64)
    b = tf.zeros(3, tf.float64)
    p0 = np.exp(0.5) / (np.exp(0.5) + 2)
    p1 = np.exp(0.0) / (2 + np.exp(2.0))  # sample 2 scores (0, 0, 2), true class 1
    expected = -(np.log(p0) + np.log(p1)) / 2 + 0.3 * (0.25 + 1.0)
    assert float(sg.cost(x, y, w, b, 0.3)) == pytest.approx(expected, rel=1e-12)
