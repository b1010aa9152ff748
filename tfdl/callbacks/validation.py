"""Validation every N training steps, compiled, on a preloaded validation set."""

import keras
import tensorflow as tf

from tfdl.callbacks.base import StepCallback, summary_writer


def accuracy(y_true, y_pred):
    """Classification accuracy for integer or one-hot labels."""
    predicted = tf.argmax(y_pred, axis=-1)
    if y_true.shape.rank == y_pred.shape.rank:
        y_true = tf.argmax(y_true, axis=-1)
    return tf.reduce_mean(tf.cast(tf.equal(tf.cast(y_true, predicted.dtype), predicted), tf.float32))


class ValidateEvery(StepCallback):
    """Evaluates loss (and accuracy, for classifiers) on a whole validation set every
    `every` steps — `every=1` is "validation every iteration".

    The validation set is held as tensors and the evaluation is one compiled
    function, so it costs a forward pass and no Python data pipeline: calling
    `model.evaluate` each step is ~9x slower (see benchmarks/validation_overhead.py).

    Args:
        x, y: the validation set.
        loss: the loss to report (a Keras loss or its name).
        every: evaluate every this many steps (also at step 0).
        log_dir: optional TensorBoard run directory for `<name>/loss`, `<name>/accuracy`.
        name: prefix of the scalars and history keys, e.g. "val" or "test".
        classification: report accuracy too (default: output width > 1).

    Attributes:
        history: `{"step": [...], "loss": [...], "accuracy": [...]}`.
    """

    def __init__(self, x, y, loss, every=1, log_dir=None, name="val", classification=None):
        super().__init__(every=every, at_start=True)
        self.x = tf.convert_to_tensor(x)
        self.y = tf.convert_to_tensor(y)
        self.loss = keras.losses.get(loss)
        self.log_dir = log_dir
        self.name = name
        self.classification = classification
        self.history = {"step": [], "loss": []}

    def on_train_begin(self, logs=None):
        if self.classification is None:
            self.classification = self.model.outputs[0].shape[-1] > 1
        if self.classification:
            self.history.setdefault("accuracy", [])
        super().on_train_begin(logs)

    @tf.function
    def _evaluate(self):
        y_pred = self.model(self.x, training=False)
        loss = tf.reduce_mean(self.loss(self.y, y_pred))
        acc = accuracy(self.y, y_pred) if self.classification else tf.constant(0.0)
        return loss, acc

    def evaluate(self):
        loss, acc = self._evaluate()
        return float(loss), float(acc)

    def on_step(self, step):
        loss, acc = self.evaluate()
        self.history["step"].append(step)
        self.history["loss"].append(loss)
        if self.classification:
            self.history["accuracy"].append(acc)
        if self.log_dir:
            with summary_writer(self.log_dir).as_default(step=step):
                tf.summary.scalar(f"{self.name}/loss", loss)
                if self.classification:
                    tf.summary.scalar(f"{self.name}/accuracy", acc)

    @property
    def last_loss(self):
        return self.history["loss"][-1] if self.history["loss"] else None
