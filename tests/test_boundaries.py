"""tfdl.analysis.boundaries: the class map over a grid and the decision-boundary figure."""

import os

from tfdl.analysis import boundaries

import keras
import numpy as np


def test_decision_boundaries_follow_the_model(tmp_path):
    # A fixed linear "classifier": class 1 where x1 > x2.
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(2, activation="softmax")])
    model.layers[0].set_weights([np.array([[-10.0, 10.0], [10.0, -10.0]]).astype(np.float32),
                                 np.zeros(2, np.float32)])
    x = np.array([[0.0, 0.0], [1.0, 1.0]], dtype=np.float32)
    xs, ys, classes = boundaries.predict_grid(model, x, resolution=21, margin=0.0)
    gx, gy = np.meshgrid(xs, ys)
    np.testing.assert_array_equal(classes[gx > gy + 1e-6], 1)
    np.testing.assert_array_equal(classes[gx < gy - 1e-6], 0)
    path = boundaries.decision_boundaries(tmp_path / "b.png", model, x, np.array([0, 1]), "t")
    assert os.path.getsize(path) > 1000
