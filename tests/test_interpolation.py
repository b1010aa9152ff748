"""tfdl.analysis.interpolation: losses along the line between two trained models."""

from tfdl import training
from tfdl.analysis.interpolation import interpolate_weights, interpolation_curve
from tfdl.models import mlp

import numpy as np
import pytest


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
    second_loss = training.evaluate(second, x, y)["loss"]
    assert curve["train_loss"][1] == pytest.approx(second_loss, rel=1e-5)
    np.testing.assert_allclose(first.get_weights()[0], 2 * b[0] - a[0], rtol=1e-5, atol=1e-6)


def _with_weights(weights):
    clone = training.compile_model(mlp(3, [4], 2), 0.1)
    clone.set_weights(weights)
    return clone
