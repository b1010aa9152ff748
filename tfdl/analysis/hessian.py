"""The Hessian of a small network's loss, and critical points where the gradient vanishes.

Example:

    descend_gradient_norm(model, x, y, "mse", steps=500)   # drive ||g|| towards 0
    eigenvalues = hessian_eigenvalues(model, x, y, "mse")
    minimal_ratio(eigenvalues)                              # share of positive eigenvalues
"""

import keras
import numpy as np
import tensorflow as tf


def _loss_fn(model, x, y, loss):
    loss_fn = keras.losses.get(loss)
    x, y = tf.convert_to_tensor(x), tf.convert_to_tensor(y)
    return lambda: tf.reduce_mean(loss_fn(y, model(x, training=False)))


def _flat(tensors):
    return tf.concat([tf.reshape(t, [-1]) for t in tensors], axis=0)


def hessian(model, x, y, loss):
    """The full Hessian of the mean loss on `(x, y)` w.r.t. every trainable weight.

    Computed with nested `tf.GradientTape`s (the Jacobian of the flattened gradient), so it
    is meant for small networks: n weights cost an n x n matrix.

    Returns:
        (n, n) numpy array, weights ordered as `model.trainable_weights`, each flattened.
    """
    variables = model.trainable_weights
    compute = _loss_fn(model, x, y, loss)
    with tf.GradientTape(persistent=True) as outer:
        with tf.GradientTape() as inner:
            value = compute()
        gradient = _flat(inner.gradient(value, variables))
    blocks = outer.jacobian(gradient, variables, experimental_use_pfor=False)
    del outer
    matrix = tf.concat([tf.reshape(b, [gradient.shape[0], -1]) for b in blocks], axis=1)
    matrix = matrix.numpy().astype(np.float64)
    return (matrix + matrix.T) / 2  # symmetric up to float round-off


def hessian_eigenvalues(model, x, y, loss):
    """Eigenvalues of `hessian(...)`, ascending."""
    return np.linalg.eigvalsh(hessian(model, x, y, loss))


def minimal_ratio(eigenvalues, tol=0.0):
    """Share of eigenvalues above `tol`: 1 at a strict local minimum, lower at saddles."""
    eigenvalues = np.asarray(eigenvalues)
    return float(np.mean(eigenvalues > tol))


def gradient_norm(model, x, y, loss):
    """L2 norm of the gradient of the mean loss on `(x, y)` w.r.t. every trainable weight."""
    compute = _loss_fn(model, x, y, loss)
    with tf.GradientTape() as tape:
        value = compute()
    return float(tf.norm(_flat(tape.gradient(value, model.trainable_weights))))


def descend_gradient_norm(model, x, y, loss, steps, learning_rate=1e-3):
    """Minimizes ||grad loss||^2 (full batch, Adam) to move onto a critical point.

    After ordinary training has converged, the loss's own gradient is small but not zero;
    descending its squared norm finds a nearby point where it is (close to) zero, which
    may be a minimum or a saddle (see `minimal_ratio`).

    Returns:
        `{"gradient_norm": [||g|| per step], "loss": [loss per step]}` (values before each step).
    """
    variables = model.trainable_weights
    compute = _loss_fn(model, x, y, loss)
    optimizer = keras.optimizers.Adam(learning_rate=learning_rate)

    @tf.function
    def step():
        with tf.GradientTape() as outer:
            with tf.GradientTape() as inner:
                value = compute()
            squared = tf.reduce_sum(tf.square(_flat(inner.gradient(value, variables))))
        optimizer.apply_gradients(zip(outer.gradient(squared, variables), variables))
        return tf.sqrt(squared), value

    history = {"gradient_norm": [], "loss": []}
    for _ in range(steps):
        norm, value = step()
        history["gradient_norm"].append(float(norm))
        history["loss"].append(float(value))
    return history
