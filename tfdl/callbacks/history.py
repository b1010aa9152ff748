"""Per-step training loss and progress lines for long runs."""

import math
import sys
import time

import keras
import tensorflow as tf

from tfdl.callbacks.base import summary_writer


class BatchLoss(keras.metrics.Metric):
    """The loss of the latest training batch alone.

    Keras reports a running mean of the loss over the epoch; the step-to-step noise of
    the loss (how it shrinks as batches grow) needs each batch's own value.
    """

    def __init__(self, loss, name="batch_loss", **kwargs):
        super().__init__(name=name, **kwargs)
        self._loss = keras.losses.get(loss)
        self.value = self.add_variable(shape=(), initializer="zeros", name="value")

    def update_state(self, y_true, y_pred, sample_weight=None):
        self.value.assign(tf.reduce_mean(self._loss(y_true, y_pred)))

    def result(self):
        return self.value

    def reset_state(self):
        self.value.assign(0.0)


class StepHistory(keras.callbacks.Callback):
    """Records the `batch_loss` metric (see `BatchLoss`) after every step, writes it to
    TensorBoard every `log_every` steps, and prints a progress line every
    `PROGRESS_EVERY_S` seconds and at the end.

    Args:
        total_steps: the run's length, for progress and ETA.
        log_dir: optional TensorBoard run directory for the `train/loss` scalar.
        log_every: TensorBoard write interval in steps.
        label: a prefix for the progress lines; None prints nothing.

    Attributes:
        losses: the training loss of every step.
    """

    def __init__(self, total_steps, log_dir=None, log_every=10, label=None):
        super().__init__()
        self.total_steps = total_steps
        self.log_dir = log_dir
        self.log_every = max(1, log_every)
        self.label = label
        self.losses = []

    PROGRESS_EVERY_S = 10.0

    def on_train_begin(self, logs=None):
        self._start = self._last_print = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        loss = float(logs["batch_loss"])
        self.losses.append(loss)
        step = len(self.losses)
        if self.log_dir and step % self.log_every == 0:
            with summary_writer(self.log_dir).as_default(step=step):
                tf.summary.scalar("train/loss", loss)
        now = time.perf_counter()
        due = now - self._last_print >= self.PROGRESS_EVERY_S or step == self.total_steps
        if self.label is not None and (due or not math.isfinite(loss)):
            self._last_print = now
            elapsed = now - self._start
            eta = elapsed / step * (self.total_steps - step)
            print(f"    {self.label}: step {step}/{self.total_steps}  loss {loss:.4f}  "
                  f"{elapsed:.0f}s elapsed, ~{eta:.0f}s left", file=sys.stderr, flush=True)
