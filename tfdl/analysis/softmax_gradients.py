"""A one-layer softmax classifier's cost and its analytic gradient, in TensorFlow ops,
with the checks KTH DD2424's Assignment 1 asks for.

The assignment's notation: X is d x n (one column per image), Y is K x n one-hot,
W is K x d, b is K x 1 and

    P = softmax(W X + b)                      (column-wise)
    J = -(1/n) sum_i log P[y_i, i] + lam * sum(W**2)
    dJ/dW = (1/n) G X^T + 2 lam W,   dJ/db = (1/n) G 1,   G = P - Y

Example:

    x, y = random_problem(d=3072, n=20, seed=0)          # float64
    w, b = random_parameters(d=3072, seed=1)
    numerical = numerical_gradients(x, y, w, b, lam=0.1)  # centred differences, float64
    analytic = analytic_gradients(x, y, w, b, lam=0.1)
    max_relative_error(analytic[0], numerical[0])        # ~1e-9
"""

import numpy as np
import tensorflow as tf


def cost(x, y, w, b, lam):
    """J(W, b) of the assignment.

    Args:
        x: d x n inputs.
        y: integer labels (n,).
        w: K x d weights.
        b: K biases.
        lam: the L2 penalty lambda.
    """
    scores = tf.linalg.matmul(w, x) + b[:, None]
    return _cross_entropy(scores, y) + lam * tf.reduce_sum(tf.square(w))


def _cross_entropy(scores, y):
    """Mean cross-entropy of scores [..., K, n] (a stack of score matrices allowed)."""
    log_p = scores - tf.reduce_logsumexp(scores, axis=-2, keepdims=True)
    one_hot = tf.transpose(tf.one_hot(y, tf.shape(scores)[-2], dtype=scores.dtype))  # K x n
    return -tf.reduce_mean(tf.reduce_sum(log_p * one_hot, axis=-2), axis=-1)


def analytic_gradients(x, y, w, b, lam):
    """The assignment's closed-form (dJ/dW, dJ/db), with TensorFlow ops."""
    n = tf.cast(tf.shape(x)[1], x.dtype)
    p = tf.nn.softmax(tf.linalg.matmul(w, x) + b[:, None], axis=0)     # K x n
    g = p - tf.transpose(tf.one_hot(y, tf.shape(w)[0], dtype=x.dtype))
    grad_w = tf.linalg.matmul(g, x, transpose_b=True) / n + 2.0 * lam * w
    grad_b = tf.reduce_sum(g, axis=1) / n
    return grad_w, grad_b


def tape_gradients(x, y, w, b, lam):
    """(dJ/dW, dJ/db) by automatic differentiation of `cost`."""
    w, b = tf.Variable(w), tf.Variable(b)
    with tf.GradientTape() as tape:
        value = cost(x, y, w, b, lam)
    return tuple(tape.gradient(value, [w, b]))


# Centred difference stencils: offsets (in units of h) and weights, divided by h.
STENCILS = {
    2: ((1, -1), (1 / 2, -1 / 2)),                          # error O(h^2), the assignment's
    4: ((2, 1, -1, -2), (-1 / 12, 8 / 12, -8 / 12, 1 / 12)),  # error O(h^4)
}


def numerical_gradients(x, y, w, b, lam, h=1e-5, points=2, chunk=1024):
    """Centred finite differences of `cost` for every entry of W and b.

    With `points=2`: (J(θ + h e_k) - J(θ - h e_k)) / 2h, as the assignment's
    ComputeGradsNumSlow; `points=4` uses the 4-point centred stencil
    (-J(+2h) + 8 J(+h) - 8 J(-h) + J(-2h)) / 12h.

    Perturbing W[i, j] by t changes the scores W X + b in row i only, by t x_j^T,
    and the penalty sum(W^2) by (W[i, j] + t)^2 - W[i, j]^2; the perturbed costs are
    formed that way, `chunk` entries at a time, instead of one matrix product per
    entry (identical in exact arithmetic; 30,720 entries take seconds, not minutes).
    Use float64: in float32 the rounding of J swamps the differences.
    """
    x = tf.convert_to_tensor(x)
    scores = tf.linalg.matmul(w, x) + b[:, None]                      # K x n
    classes, dim = w.shape
    penalty = tf.reduce_sum(tf.square(w))
    flat_w = tf.reshape(w, [-1])

    def w_cost(index, t):
        rows, cols = index // dim, index % dim
        delta = t * tf.one_hot(rows, classes, dtype=x.dtype)[:, :, None] * \
            tf.gather(x, cols)[:, None, :]                            # m x K x n
        entry = tf.gather(flat_w, index)
        reg = penalty - tf.square(entry) + tf.square(entry + t)
        return _cross_entropy(scores[None] + delta, y) + lam * reg

    def b_cost(index, t):
        delta = t * tf.one_hot(index, classes, dtype=x.dtype)[:, :, None]
        return _cross_entropy(scores[None] + delta, y) + lam * penalty

    grad_w = _centred(w_cost, classes * dim, h, points, chunk)
    grad_b = _centred(b_cost, classes, h, points, chunk)
    return tf.reshape(grad_w, w.shape), grad_b


def _centred(perturbed_cost, size, h, points, chunk):
    offsets, weights = STENCILS[points]
    out = []
    for start in range(0, size, chunk):
        index = tf.range(start, min(start + chunk, size))
        out.append(sum(c * perturbed_cost(index, tf.constant(k * h, tf.float64))
                       for k, c in zip(offsets, weights)) / h)
    return tf.concat(out, axis=0)


def relative_errors(g_a, g_n, eps=1e-10):
    """|g_a - g_n| / max(eps, |g_a| + |g_n|), element-wise (the assignment's Eq. 1)."""
    g_a, g_n = np.asarray(g_a, dtype=np.float64), np.asarray(g_n, dtype=np.float64)
    return np.abs(g_a - g_n) / np.maximum(eps, np.abs(g_a) + np.abs(g_n))


def max_relative_error(g_a, g_n, eps=1e-10):
    return float(relative_errors(g_a, g_n, eps).max())


def random_problem(d=3072, n=20, classes=10, seed=0, dtype=tf.float64):
    """Standard-normal inputs (d x n, like normalized CIFAR-10 columns) and random labels."""
    rng = np.random.default_rng(seed)
    x = tf.constant(rng.standard_normal((d, n)), dtype=dtype)
    y = tf.constant(rng.integers(0, classes, n), dtype=tf.int64)
    return x, y


def random_parameters(d=3072, classes=10, std=0.01, seed=1, dtype=tf.float64):
    """W, b ~ N(0, std^2), the assignment's initialization."""
    rng = np.random.default_rng(seed)
    return (tf.constant(std * rng.standard_normal((classes, d)), dtype=dtype),
            tf.constant(std * rng.standard_normal(classes), dtype=dtype))
