"""tfdl.plots: the surface figure over tfdl.data.synthetic's grid."""

import os

from tfdl import plots
from tfdl.data import gaussian_bump
from tfdl.data.synthetic import grid

import numpy as np


def test_grid_and_surfaces(tmp_path):
    x1, x2, points = grid(points=5)
    assert x1.shape == (5, 5) and points.shape == (25, 2)
    assert points[0].tolist() == [-2.0, -2.0] and points[-1].tolist() == [2.0, 2.0]
    path = plots.surfaces(tmp_path / "s.png", x1, x2,
                          {"truth": gaussian_bump(points), "zeros": np.zeros(25)}, "t",
                          points=(points[:3], np.zeros(3)))
    assert os.path.getsize(path) > 1000
