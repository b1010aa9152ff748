"""Input sensitivity: how much the loss moves when the input moves.

Example:

    input_sensitivity(model, x_test, y_test, "sparse_categorical_crossentropy")
"""

import keras
import numpy as np
import tensorflow as tf


def input_sensitivity(model, x, y, loss, batch_size=2_000):
    """Frobenius norm of d loss / d input, per example (root mean square over `x`).

    The loss is summed over the batch before differentiating, so row i of the (n, d)
    gradient matrix is d loss_i / d x_i and does not depend on the batch size. The
    Frobenius norm of that matrix is divided by sqrt(n), so sets of different sizes
    compare: it is the root mean square of ||d loss_i / d x_i||.

    Args:
        model: a Keras model.
        x, y: inputs and targets.
        loss: a Keras loss or its name.
        batch_size: examples per gradient computation (memory only).
    """
    loss_fn = keras.losses.get(loss)
    squared = 0.0
    for start in range(0, len(x), batch_size):
        xb = tf.convert_to_tensor(x[start:start + batch_size])
        yb = tf.convert_to_tensor(y[start:start + batch_size])
        with tf.GradientTape() as tape:
            tape.watch(xb)
            value = tf.reduce_sum(loss_fn(yb, model(xb, training=False)))
        squared += float(tf.reduce_sum(tf.square(tape.gradient(value, xb))))
    return float(np.sqrt(squared / len(x)))
