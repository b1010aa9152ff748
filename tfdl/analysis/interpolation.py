"""Linear interpolation between two trained models' weights (flatness pictures).

Example:

    curve = interpolation_curve(model, weights_a, weights_b, np.linspace(-1, 2, 31),
                                {"train": (x, y), "test": (x_test, y_test)})
"""

from tfdl import training

import numpy as np


def interpolate_weights(first, second, alpha):
    """(1 - alpha) * first + alpha * second, weight by weight (lists of arrays)."""
    if len(first) != len(second):
        raise ValueError("the two weight lists have different lengths")
    return [(1 - alpha) * np.asarray(a) + alpha * np.asarray(b) for a, b in zip(first, second)]


def interpolation_curve(model, first, second, alphas, datasets, loss=None):
    """Loss and accuracy of `model` with interpolated weights, for every alpha.

    Args:
        model: a compiled model of the two weight lists' architecture (its weights are
            overwritten; the last alpha's weights remain).
        first, second: `model.get_weights()` of the two trained models.
        alphas: the interpolation coefficients (0 gives `first`, 1 gives `second`).
        datasets: `{name: (x, y)}` to evaluate on.
        loss: the loss to report (default: the model's).

    Returns:
        `{"alpha": [...], "<name>_loss": [...], "<name>_accuracy": [...]}`.
    """
    curve = {"alpha": [float(a) for a in alphas]}
    for alpha in alphas:
        model.set_weights(interpolate_weights(first, second, alpha))
        for name, (x, y) in datasets.items():
            result = training.evaluate(model, x, y, loss=loss)
            curve.setdefault(f"{name}_loss", []).append(result["loss"])
            curve.setdefault(f"{name}_accuracy", []).append(result["accuracy"])
    return curve
