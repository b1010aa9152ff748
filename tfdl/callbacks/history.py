"""Per-step training loss and progress lines for long runs."""

import math
import sys
import time

from tfdl.callbacks.base import ScalarLog

import keras
import tensorflow as tf


class BatchLoss(keras.metrics.Metric):
    """The loss of the latest training batch alone, and a ring buffer of the recent ones.

    Keras reports a running mean of the loss over the epoch; the step-to-step noise of
    the loss (how it shrinks as batches grow) needs each batch's own value. With
    `steps_per_execution > 1` callbacks run once per execution, so every step's loss is
    also written to `buffer[count % window]`; `StepHistory` reads the steps it missed.

    Args:
        loss: the training loss (a Keras loss or its name).
        window: ring-buffer length, the largest `steps_per_execution` supported.
    """

    def __init__(self, loss, name="batch_loss", window=4096, **kwargs):
        super().__init__(name=name, **kwargs)
        self._loss = keras.losses.get(loss)
        self.window = window
        self.value = self.add_variable(shape=(), initializer="zeros", name="value")
        self.buffer = self.add_variable(shape=(window,), initializer="zeros", name="buffer")
        self.count = self.add_variable(shape=(), initializer="zeros", name="count", dtype="int64")

    def update_state(self, y_true, y_pred, sample_weight=None):
        value = tf.reduce_mean(self._loss(y_true, y_pred))
        self.value.assign(value)
        index = tf.math.floormod(self.count, self.window)
        self.buffer.assign(tf.tensor_scatter_nd_update(self.buffer, [[index]], [value]))
        self.count.assign_add(1)

    def result(self):
        return self.value

    def reset_state(self):
        # `count` and `buffer` survive Keras' per-epoch metric reset: StepHistory
        # counts the steps it has read against `count`.
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
        self._scalars = ScalarLog(log_dir) if log_dir else None

    PROGRESS_EVERY_S = 10.0

    def on_train_begin(self, logs=None):
        self._start = self._last_print = time.perf_counter()
        # Keras builds compiled metrics on the first step: a metric not found yet is
        # fresh, and has counted nothing.
        self._batch_metric = metric = self._metric()
        self._read = int(metric.count.numpy()) if metric is not None else 0

    def on_train_end(self, logs=None):
        if self._scalars is not None:
            self._scalars.flush()

    def _metric(self):
        for metric in getattr(self.model, "metrics", []):
            for inner in [metric, *getattr(metric, "metrics", [])]:
                if isinstance(inner, BatchLoss):
                    return inner
        return None

    def on_train_batch_end(self, batch, logs=None):
        if self._batch_metric is None:
            self._batch_metric = self._metric()
        metric = self._batch_metric
        count = int(metric.count.numpy()) if metric is not None else None
        if count is None or count - self._read <= 1:
            losses = [float(logs["batch_loss"])]
        else:  # several steps ran in this execution: read them from the ring buffer
            missed = count - self._read
            if missed > metric.window:
                raise RuntimeError(f"{missed} steps per execution exceed BatchLoss's window "
                                   f"{metric.window}")
            buffer = metric.buffer.numpy()
            losses = [float(buffer[i % metric.window]) for i in range(self._read, count)]
        self._read = count
        self.losses.extend(losses)
        loss = losses[-1]
        step = len(self.losses)
        if self._scalars is not None:
            first = step - len(losses) + 1
            for s, value in zip(range(first, step + 1), losses):
                if s % self.log_every == 0:
                    self._scalars.add("train/loss", s, value)
        now = time.perf_counter()
        due = now - self._last_print >= self.PROGRESS_EVERY_S or step == self.total_steps
        if self.label is not None and (due or not math.isfinite(loss)):
            self._last_print = now
            elapsed = now - self._start
            eta = elapsed / step * (self.total_steps - step)
            print(f"    {self.label}: step {step}/{self.total_steps}  loss {loss:.4f}  "
                  f"{elapsed:.0f}s elapsed, ~{eta:.0f}s left", file=sys.stderr, flush=True)
