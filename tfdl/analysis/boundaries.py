"""Decision-boundary maps of a 2-feature classifier, like the HUJI ML course's helper.

The model's predicted class is drawn over a grid covering the data (e.g. longitude on
x, latitude on y), with the points on top coloured by their true class.

Example:

    decision_boundaries("best.png", model, *splits.test, "depth 6, width 64",
                        xlabel="longitude", ylabel="latitude")
"""

from tfdl.plots import _save, plt

import numpy as np


def predict_grid(model, x, resolution=200, margin=0.05, batch_size=50_000):
    """Predicted classes over a `resolution x resolution` grid spanning `x` (n, 2).

    Returns:
        `(xs, ys, classes)`: the grid's axes and an int array of shape (len(ys), len(xs)).
    """
    x = np.asarray(x, dtype=np.float32)
    low, high = x.min(axis=0), x.max(axis=0)
    pad = (high - low) * margin
    xs = np.linspace(low[0] - pad[0], high[0] + pad[0], resolution, dtype=np.float32)
    ys = np.linspace(low[1] - pad[1], high[1] + pad[1], resolution, dtype=np.float32)
    grid = np.stack(np.meshgrid(xs, ys), axis=-1).reshape(-1, 2)
    classes = np.concatenate([
        np.argmax(np.asarray(model(grid[i:i + batch_size], training=False)), axis=-1)
        for i in range(0, len(grid), batch_size)])
    return xs, ys, classes.reshape(len(ys), len(xs))


def decision_boundaries(path, model, x, y, title, num_classes=None, xlabel="x1", ylabel="x2",
                        resolution=200, max_points=5000):
    """Draws the model's predicted class over the data's range, with points `(x, y)`.

    Args:
        path: the PNG to write.
        model: a Keras classifier on 2 features (softmax or logits output).
        x, y: points (n, 2) and their integer classes, drawn on top.
        title: the figure's title.
        num_classes: colours to allot (default: from the model's output width).
        xlabel, ylabel: axis names ("longitude", "latitude").
        resolution: grid points per axis.
        max_points: at most this many points are scattered (the first ones).

    Returns:
        `path`.
    """
    num_classes = num_classes or int(model.outputs[0].shape[-1])
    xs, ys, classes = predict_grid(model, x, resolution)
    cmap = plt.get_cmap("gist_ncar", num_classes)
    fig, ax = plt.subplots(figsize=(6.4, 5.2))
    ax.pcolormesh(xs, ys, classes, cmap=cmap, vmin=-0.5, vmax=num_classes - 0.5, alpha=0.45,
                  shading="auto")
    pts, labels = np.asarray(x)[:max_points], np.asarray(y)[:max_points]
    ax.scatter(pts[:, 0], pts[:, 1], c=labels, cmap=cmap, vmin=-0.5, vmax=num_classes - 0.5,
               s=3, edgecolors="none")
    ax.set(title=title, xlabel=xlabel, ylabel=ylabel)
    return _save(fig, path)
