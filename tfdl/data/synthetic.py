"""Synthetic regression sets: a known function sampled uniformly on a box.

Example:

    splits = sample_function(gaussian_bump, train=100, test=1_000, seed=0)
    splits.train[0].shape, splits.train[1].shape        # (100, 2), (100, 1)
"""

from tfdl.data.errors import DataError
from tfdl.data.splits import Splits

import numpy as np


def gaussian_bump(x):
    """f(x1, x2) = x1 · exp(−x1² − x2²), the regression target of report 000 (HW2, section d)."""
    x = np.asarray(x)
    return x[..., 0] * np.exp(-x[..., 0] ** 2 - x[..., 1] ** 2)


def sample_function(fn, train, test, val=0, low=-2.0, high=2.0, dim=2, seed=0):
    """Draws inputs uniformly from [low, high]^dim and labels them with `fn`.

    Args:
        fn: the target, `fn(x) -> y` on an `(n, dim)` array.
        train, val, test: sizes of the splits (drawn independently, in that order).
        low, high: the box's bounds.
        dim: input dimension.
        seed: NumPy seed of the draw.

    Returns:
        A `Splits` with float32 `x` of shape `(n, dim)` and `y` of shape `(n, 1)`;
        `num_classes` is 0 (regression).
    """
    if min(train, test) < 1 or val < 0:
        raise DataError(f"need train >= 1, test >= 1, val >= 0; got {train}, {test}, {val}")
    if not low < high:
        raise DataError(f"need low < high, got [{low}, {high}]")
    rng = np.random.default_rng(seed)

    def draw(n):
        x = rng.uniform(low, high, size=(n, dim)).astype(np.float32)
        return x, np.asarray(fn(x), dtype=np.float32).reshape(n, 1)

    train_split = draw(train)
    val_split = draw(val)
    test_split = draw(test)
    name = getattr(fn, "__name__", "function")
    return Splits(train=train_split, val=val_split, test=test_split, num_classes=0,
                  source=f"{name} on [{low:g}, {high:g}]^{dim}, uniform, seed {seed}")


def grid(low=-2.0, high=2.0, points=41):
    """A square grid on [low, high]²: `(x1, x2)` meshes and the `(points², 2)` input array."""
    axis = np.linspace(low, high, points, dtype=np.float32)
    x1, x2 = np.meshgrid(axis, axis)
    return x1, x2, np.stack([x1.ravel(), x2.ravel()], axis=1)
