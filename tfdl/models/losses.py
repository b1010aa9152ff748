"""Losses the reports used that Keras does not name."""

import keras


@keras.saving.register_keras_serializable(package="tfdl")
def half_squared_error(y_true, y_pred):
    """½ Σ_k (y_k − ŷ_k)² per example: TF1's `tf.nn.l2_loss(y - y_hat) / batch_size`.

    Five times Keras's `mean_squared_error` on 10 classes (which averages over classes).
    """
    return 0.5 * keras.ops.sum(keras.ops.square(y_true - y_pred), axis=-1)


_OURS = {"half_squared_error": half_squared_error}
REDUCTIONS = {"mean": "sum_over_batch_size", "sum": "sum"}


class _Reduced(keras.losses.Loss):
    """A per-example loss function with a chosen reduction over the batch."""

    def __init__(self, fn, reduction, name):
        super().__init__(reduction=reduction, name=name)
        self.fn = fn

    def call(self, y_true, y_pred):
        return self.fn(y_true, y_pred)


def get(name, reduction="mean"):
    """A training loss by name — Keras's names and tfdl's (`half_squared_error`) — reduced
    over the batch by its mean (Keras's default) or its sum (as `tf.nn.l2_loss` without the
    division by the batch)."""
    if reduction not in REDUCTIONS:
        raise ValueError(f"unknown reduction {reduction!r}; valid: {', '.join(REDUCTIONS)}")
    return _Reduced(_OURS.get(name) or keras.losses.get(name), REDUCTIONS[reduction], name)
