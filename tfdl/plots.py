"""Figures in the style of the reports: curves per setting, a metric against a knob."""

import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


def _save(fig, path):
    os.makedirs(os.path.dirname(str(path)) or ".", exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def curves(path, series, title, xlabel="step", ylabel="loss", logy=False, smooth=1,
           markers=False, start=1):
    """One line per entry of `series` (`{label: (xs, ys)}` or `{label: ys}`; None: a gap).

    Args:
        start: the x of a bare `ys`' first point (e.g. 0 for curves whose point 0 is the
            initial model), then one per point.
        smooth: moving-average window, for noisy per-step losses.
        markers: mark every point (isolated points between NaN gaps stay visible).
    """
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for label, data in series.items():
        xs, ys = data if isinstance(data, tuple) else (np.arange(start, start + len(data)), data)
        ys = np.asarray(ys, dtype=float)
        if smooth > 1 and len(ys) > smooth:
            ys = np.convolve(ys, np.ones(smooth) / smooth, mode="valid")
            xs = np.asarray(xs)[smooth - 1:]
        ax.plot(xs, ys, label=str(label), linewidth=1, marker="." if markers else None,
                markersize=4)
    ax.set(title=title, xlabel=xlabel, ylabel=ylabel)
    if logy:
        ax.set_yscale("log")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return _save(fig, path)


def curve_grid(path, series, title, xlabel="step", ylabel="loss", sharey=True):
    """Small multiples: one panel per entry of `series` (`{label: (xs, ys)}`), as a report
    shows one figure per setting."""
    count = len(series)
    cols = min(3, count)
    rows = -(-count // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.0 * rows), sharey=sharey,
                             squeeze=False)
    for ax, (label, (xs, ys)) in zip(axes.flat, series.items()):
        ax.plot(xs, [np.nan if y is None else y for y in ys], linewidth=0.8)
        ax.set_title(str(label), fontsize=10)
        ax.set(xlabel=xlabel, ylabel=ylabel)
        ax.grid(alpha=0.3)
    for ax in list(axes.flat)[count:]:
        ax.axis("off")
    fig.suptitle(title)
    return _save(fig, path)


def metric_vs(path, xs, series, title, xlabel, ylabel="accuracy", logx=False):
    """Metrics against a knob: `series` is `{label: ys}` aligned with `xs`."""
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    positions = xs if logx or all(isinstance(x, (int, float)) for x in xs) else range(len(xs))
    for label, ys in series.items():
        ys = [np.nan if y is None else y for y in ys]
        ax.plot(positions, ys, marker="o", label=label)
    if positions is not xs:
        ax.set_xticks(list(positions), [str(x) for x in xs])
    if logx:
        ax.set_xscale("log")
    ax.set(title=title, xlabel=xlabel, ylabel=ylabel)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return _save(fig, path)


def histograms(path, samples, title, xlabel, bins=50):
    """Overlaid histograms, one per entry of `samples` (`{label: values}`)."""
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for label, values in samples.items():
        ax.hist(np.ravel(values), bins=bins, alpha=0.5, label=str(label), density=True)
    ax.set(title=title, xlabel=xlabel, ylabel="density")
    ax.legend(fontsize=8)
    return _save(fig, path)


def surfaces(path, x1, x2, grids, title, points=None):
    """Side-by-side 3-D surfaces on one grid, e.g. a target function and a network's fit.

    Args:
        x1, x2: the grid's meshes (as from `numpy.meshgrid`).
        grids: `{label: Z}` with Z shaped like the meshes (or flat, reshaped to them).
        title: the figure's title.
        points: optional `(x, y)` samples (x of shape (n, 2)) scattered on every panel.
    """
    x1, x2 = np.asarray(x1), np.asarray(x2)
    fig = plt.figure(figsize=(4.6 * len(grids), 4.2))
    for i, (label, z) in enumerate(grids.items(), start=1):
        ax = fig.add_subplot(1, len(grids), i, projection="3d")
        ax.plot_surface(x1, x2, np.asarray(z, dtype=float).reshape(x1.shape), cmap="viridis",
                        linewidth=0, alpha=0.85)
        if points is not None:
            xs, ys = points
            ax.scatter(xs[:, 0], xs[:, 1], np.ravel(ys), s=3, c="k", alpha=0.5)
        ax.set(title=str(label), xlabel="x1", ylabel="x2")
    fig.suptitle(title)
    return _save(fig, path)


def image_grid(path, images, title, labels=None, columns=10):
    """Images side by side, each min-max scaled to [0, 1] on its own (weight templates).

    Args:
        images: (N, H, W, C) or (N, H, W) array.
        labels: optional titles, one per image.
    """
    images = np.asarray(images, dtype=float)
    rows = int(np.ceil(len(images) / columns))
    fig, axes = plt.subplots(rows, columns, figsize=(1.3 * columns, 1.5 * rows + 0.4),
                             squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    for i, (ax, image) in enumerate(zip(axes.ravel(), images)):
        low, high = image.min(), image.max()
        ax.imshow((image - low) / (high - low) if high > low else np.zeros_like(image),
                  cmap=None if image.ndim == 3 else "gray")
        if labels is not None:
            ax.set_title(str(labels[i]), fontsize=8)
    fig.suptitle(title, fontsize=9)
    return _save(fig, path)


def trajectories(path, paths, title):
    """2-D paths, one per series (`paths`: (series, points, 2)), start marked with a circle."""
    fig, ax = plt.subplots(figsize=(6.4, 4.8))
    for i, points in enumerate(np.asarray(paths, dtype=float)):
        line, = ax.plot(points[:, 0], points[:, 1], marker=".", markersize=3, linewidth=0.8,
                        label=f"series {i + 1}")
        ax.plot(*points[0], marker="o", color=line.get_color(), markersize=7, fillstyle="none")
    ax.set(title=title, xlabel="PC 1", ylabel="PC 2")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    return _save(fig, path)


def scatter(path, xs, ys, title, xlabel, ylabel):
    """One point per (x, y) pair."""
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    ax.scatter(xs, ys, s=12)
    ax.set(title=title, xlabel=xlabel, ylabel=ylabel)
    ax.grid(alpha=0.3)
    return _save(fig, path)


def twin_axes(path, xs, left, right, title, xlabel, left_label, right_label, logx=False):
    """`left` series (`{label: ys}`) on the left axis, `right` series on a second right axis."""
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    other = ax.twinx()
    for axis, series, style in ((ax, left, "-"), (other, right, "--")):
        for label, ys in series.items():
            axis.plot(xs, [np.nan if y is None else y for y in ys], style, marker="o",
                      markersize=3, label=label, color=None if axis is ax else "tab:red")
    if logx:
        ax.set_xscale("log")
    ax.set(title=title, xlabel=xlabel, ylabel=left_label)
    other.set_ylabel(right_label)
    handles = ax.get_legend_handles_labels()
    handles2 = other.get_legend_handles_labels()
    ax.legend(handles[0] + handles2[0], handles[1] + handles2[1], fontsize=8)
    ax.grid(alpha=0.3)
    return _save(fig, path)
