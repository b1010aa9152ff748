"""tfdl.data.synthetic: the Gaussian bump and sampled-function splits."""

import math

from tfdl.data import DataError, gaussian_bump, sample_function

import numpy as np
import pytest


def test_gaussian_bump_values():
    assert gaussian_bump(np.array([[0.0, 1.0]]))[0] == 0.0
    peak = gaussian_bump(np.array([[1 / math.sqrt(2), 0.0]]))[0]
    assert peak == pytest.approx(math.exp(-0.5) / math.sqrt(2))
    assert gaussian_bump(np.array([[-1.0, 0.5]]))[0] == pytest.approx(-math.exp(-1.25))


def test_sample_function_shapes_bounds_and_seed():
    splits = sample_function(gaussian_bump, train=100, test=50, val=10, seed=3)
    assert splits.sizes() == (100, 10, 50)
    x, y = splits.train
    assert x.shape == (100, 2) and y.shape == (100, 1) and x.dtype == np.float32
    assert x.min() >= -2 and x.max() <= 2
    np.testing.assert_allclose(y.ravel(), gaussian_bump(x), rtol=1e-6)
    again = sample_function(gaussian_bump, train=100, test=50, val=10, seed=3)
    np.testing.assert_array_equal(again.test[0], splits.test[0])
    other = sample_function(gaussian_bump, train=100, test=50, val=10, seed=4)
    assert not np.array_equal(other.train[0], x)
    with pytest.raises(DataError):
        sample_function(gaussian_bump, train=0, test=5)
    with pytest.raises(DataError):
        sample_function(gaussian_bump, train=5, test=5, low=1, high=1)
