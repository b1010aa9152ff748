"""tfdl.analysis.features.SineFeatures: its values and the width of the model it feeds."""

from tfdl.analysis.features import SineFeatures
from tfdl.models import count_params, functional_mlp

import numpy as np


def test_sine_features_values_and_width():
    layer = SineFeatures([0.5, 2.0])
    x = np.array([[1.0, -3.0]], dtype=np.float32)
    np.testing.assert_allclose(np.asarray(layer(x)),
                               [[np.sin(0.5), np.sin(-1.5), np.sin(2.0), np.sin(-6.0)]], rtol=1e-6)
    model = functional_mlp(2, [16] * 6, 33, features=SineFeatures([0.1 * k for k in range(1, 11)]))
    # 20 sine features -> 16, five 16 -> 16, 16 -> 33 (weights and biases)
    assert count_params(model) == (20 * 16 + 16) + 5 * (16 * 16 + 16) + (16 * 33 + 33)
