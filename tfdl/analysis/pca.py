"""Principal component analysis with numpy's SVD, for weight trajectories.

Example:

    projected, explained = pca(trajectory_matrix, components=2)
"""

import numpy as np


def pca(matrix, components=2):
    """Projects the rows of `matrix` onto its first principal components.

    Args:
        matrix: (samples, features) array, e.g. flattened weights, one row per snapshot.
        components: how many components to keep.

    Returns:
        `(projected, explained)`: the (samples, components) coordinates of the centred rows,
        and the fraction of the total variance each kept component explains.
    """
    matrix = np.asarray(matrix, dtype=np.float64)
    centred = matrix - matrix.mean(axis=0)
    _, singular, vt = np.linalg.svd(centred, full_matrices=False)
    variance = singular ** 2
    total = variance.sum()
    explained = variance[:components] / total if total > 0 else np.zeros(components)
    return centred @ vt[:components].T, explained
