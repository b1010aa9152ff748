"""tfdl.analysis.sensitivity: the input sensitivity (Frobenius norm of d loss / d input)."""

from tfdl.analysis.sensitivity import input_sensitivity

import numpy as np
import pytest
from conftest import linear_model


def test_input_sensitivity_of_a_linear_model_is_known():
    # loss_i = (w.x_i + b - y_i)^2  ->  d loss_i / d x_i = 2 (w.x_i + b - y_i) w
    rng = np.random.default_rng(3)
    x = rng.normal(size=(25, 2)).astype(np.float32)
    y = rng.normal(size=(25, 1)).astype(np.float32)
    model = linear_model(x)
    w = np.array([0.5, -1.0])
    residual = x @ w + 0.2 - y[:, 0]
    expected = np.sqrt(np.mean((2 * residual) ** 2) * (w @ w))
    assert input_sensitivity(model, x, y, "mse", batch_size=7) == pytest.approx(expected, rel=1e-4)
