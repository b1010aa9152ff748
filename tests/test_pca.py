"""tfdl.analysis.pca: principal components of weight trajectories."""

from tfdl.analysis.pca import pca

import numpy as np


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
