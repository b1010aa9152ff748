"""Validation every N training steps, compiled, on a preloaded validation set."""

from tfdl.callbacks.base import ScalarLog, StepCallback
from tfdl.data.tensors import as_tensor

import keras
import tensorflow as tf


def accuracy(y_true, y_pred):
    """Classification accuracy for integer or one-hot labels."""
    predicted = tf.argmax(y_pred, axis=-1)
    if y_true.shape.rank == y_pred.shape.rank:
        y_true = tf.argmax(y_true, axis=-1)
    correct = tf.equal(tf.cast(y_true, predicted.dtype), predicted)
    return tf.reduce_mean(tf.cast(correct, tf.float32))


class ValidateEvery(StepCallback):
    """Evaluates loss (and accuracy, for classifiers) on a whole validation set every
    `every` steps — `every=1` is "validation every iteration".

    The validation set is held as tensors and the evaluation is compiled, so it costs a
    forward pass and no Python data pipeline: calling `model.evaluate` each step is ~9x
    slower (see benchmarks/validation_overhead.py). When `tfdl.training.train` runs several
    steps per compiled call (`steps_per_execution >= every`), the evaluation runs *inside*
    that call after every `every`-th optimizer step (and before the first, for step 0): the
    values wait in a tensor and are read once per call, so the recorded steps and values
    are those of one step per call, without a Python round trip per validation.

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

    WINDOW = 4096  # evaluations one compiled call may hold before they are read

    def __init__(self, x, y, loss, every=1, log_dir=None, name="val", classification=None):
        super().__init__(every=every, at_start=True)
        self.x = as_tensor(x)
        self.y = as_tensor(y)
        self.loss = keras.losses.get(loss)
        self.log_dir = log_dir
        self._scalars = ScalarLog(log_dir) if log_dir else None
        self.name = name
        self.classification = classification
        self.history = {"step": [], "loss": []}
        self.in_step = False  # set by `train` for a run that evaluates inside its steps
        # One function per callback, traced once per model: a run of many short trainings
        # (one model each) retraces by design, so TensorFlow's retracing warning is muted.
        self._evaluate = tf.function(self._compute)
        self._evaluate._omit_frequent_tracing_warning = True
        self._values = tf.Variable(tf.zeros((self.WINDOW, 2)), trainable=False)
        self._steps = tf.Variable(tf.zeros((self.WINDOW,), tf.int64), trainable=False)
        self._count = tf.Variable(0, dtype=tf.int64, trainable=False)
        self._offset = tf.Variable(0, dtype=tf.int64, trainable=False)  # step - iterations
        self._start_due = tf.Variable(False, trainable=False)

    def on_train_begin(self, logs=None):
        if self.classification is None:
            self.classification = self.model.outputs[0].shape[-1] > 1
        if self.classification:
            self.history.setdefault("accuracy", [])
        if not self.in_step:
            super().on_train_begin(logs)
            return
        self._base_iterations = self._iterations()
        self._base_step = self.step
        self._offset.assign(self._base_step - self._base_iterations)
        self._start_due.assign(self.at_start and self.step == 0)
        self._read = int(self._count.numpy())

    def _compute(self):
        y_pred = self.model(self.x, training=False)
        loss = tf.reduce_mean(self.loss(self.y, y_pred))
        acc = accuracy(self.y, y_pred) if self.classification else tf.constant(0.0)
        return loss, acc

    def evaluate(self):
        loss, acc = self._evaluate()
        return float(loss), float(acc)

    # In-step evaluation (graph code, called by the train step `train` builds).
    def _record(self, step):
        loss, acc = self._compute()
        loss = tf.cast(loss, self._values.dtype)
        index = tf.math.floormod(self._count, self.WINDOW)
        self._values.scatter_nd_update([[index]], [tf.stack([loss, tf.cast(acc, loss.dtype)])])
        self._steps.scatter_nd_update([[index]], [step])
        self._count.assign_add(1)
        return tf.constant(0)

    def before_step(self):
        def start():
            self._start_due.assign(False)
            return self._record(tf.constant(0, tf.int64))
        tf.cond(self._start_due, start, lambda: tf.constant(0))

    def after_step(self):
        step = self._offset + tf.cast(self.model.optimizer.iterations, tf.int64)
        tf.cond(tf.equal(tf.math.floormod(step, self.every), 0),
                lambda: self._record(step), lambda: tf.constant(0))

    def on_train_batch_end(self, batch, logs=None):
        if not self.in_step:
            super().on_train_batch_end(batch, logs)
            return
        self.step = self._base_step + self._iterations() - self._base_iterations
        count = int(self._count.numpy())
        if count == self._read:
            return
        if count - self._read > self.WINDOW:
            raise RuntimeError(f"{count - self._read} validations in one compiled call exceed "
                               f"ValidateEvery's window {self.WINDOW}")
        values, steps = self._values.numpy(), self._steps.numpy()
        for i in range(self._read, count):
            self._store(int(steps[i % self.WINDOW]), *map(float, values[i % self.WINDOW]))
        self._read = count

    def on_step(self, step):
        self._store(step, *self.evaluate())

    def _store(self, step, loss, acc):
        self.history["step"].append(step)
        self.history["loss"].append(loss)
        if self.classification:
            self.history["accuracy"].append(acc)
        if self._scalars is not None:
            self._scalars.add(f"{self.name}/loss", step, loss)
            if self.classification:
                self._scalars.add(f"{self.name}/accuracy", step, acc)

    def on_train_end(self, logs=None):
        if self._scalars is not None:
            self._scalars.flush()

    @property
    def last_loss(self):
        return self.history["loss"][-1] if self.history["loss"] else None
