"""What tfdl's callbacks share: a global step count, TensorBoard writers per directory and
scalars written in batches."""

import functools
import time
import weakref

from tfdl.callbacks.probe import LayerProbe

import keras
import tensorflow as tf
from tensorboard.plugins.scalar.metadata import create_summary_metadata


@functools.lru_cache(maxsize=None)
def summary_writer(log_dir):
    """One writer per directory, so callbacks logging to the same run share an event file."""
    return tf.summary.create_file_writer(str(log_dir))


_SCALAR = create_summary_metadata(display_name=None, description=None)  # tf.summary.scalar's


@functools.lru_cache(maxsize=None)
def _scalar_writer(log_dir):
    """A compiled function writing a batch of `(tag, step, value)` scalars to `log_dir`'s
    writer: the same events as one `tf.summary.scalar` call each, in one TensorFlow call
    (an eager call costs ~0.5 ms; a run logs thousands of points)."""
    writer = summary_writer(log_dir)

    @tf.function(autograph=False)
    def write(tags, steps, values):
        with writer.as_default():
            def body(i):
                tf.summary.write(tags[i], values[i], step=steps[i], metadata=_SCALAR)
                return i + 1
            tf.while_loop(lambda i: i < tf.size(steps), body, [tf.constant(0)])

    return write


_OPEN_LOGS = weakref.WeakSet()


class ScalarLog:
    """TensorBoard scalars of one run directory, kept and written in batches: at `flush()`,
    at the first `add` `FLUSH_EVERY_S` seconds after the last write, and by `flush_all()`
    (which `tfdl.training.train` calls when a run ends, however it ends)."""

    FLUSH_EVERY_S = 10.0

    def __init__(self, log_dir):
        self.log_dir = str(log_dir)
        self._points = []
        self._written = time.perf_counter()
        _OPEN_LOGS.add(self)

    def add(self, tag, step, value):
        self._points.append((tag, step, value))
        if time.perf_counter() - self._written >= self.FLUSH_EVERY_S:
            self.flush()

    def flush(self):
        if self._points:
            tags, steps, values = zip(*self._points)
            _scalar_writer(self.log_dir)(tf.constant(tags), tf.constant(steps, tf.int64),
                                         tf.constant(values, tf.float32))
            self._points = []
        self._written = time.perf_counter()


def flush_all():
    """Writes every `ScalarLog`'s pending points."""
    for log in list(_OPEN_LOGS):
        log.flush()


class StepCallback(keras.callbacks.Callback):
    """A callback that acts every `every` training steps (and at step 0 if `at_start`).

    Subclasses implement `on_step(step)`; `self.step` counts the optimizer steps done
    (read from the optimizer, so it stays exact when `steps_per_execution > 1` makes
    Keras call back once per execution: `on_step` then runs at the first step reached
    at or after each multiple of `every`, and is told that step).
    """

    def __init__(self, every=1, at_start=False):
        super().__init__()
        if every < 1:
            raise ValueError(f"every must be >= 1, got {every}")
        self.every = every
        self.at_start = at_start
        self.step = 0

    def _iterations(self):
        optimizer = getattr(self.model, "optimizer", None)
        return None if optimizer is None else int(optimizer.iterations.numpy())

    def on_train_begin(self, logs=None):
        self._base_iterations = self._iterations()
        self._base_step = self.step
        if self.at_start and self.step == 0:
            self.on_step(0)

    def on_train_batch_end(self, batch, logs=None):
        previous = self.step
        iterations = self._iterations()
        if iterations is None or self._base_iterations is None:
            self.step += 1
        else:
            self.step = self._base_step + iterations - self._base_iterations
        if self.step // self.every > previous // self.every:
            self.on_step(self.step)

    def on_step(self, step):
        raise NotImplementedError


class ProbeCallback(StepCallback):
    """A `StepCallback` that looks inside the model through the shared `LayerProbe`
    on a fixed batch, at step 0 and every `every` steps (`self.probe.at(step)`);
    `training=True` probes with batch statistics, as the optimizer's steps see the network.
    With a `log_dir`, subclasses log TensorBoard scalars through `self.scalars` (a
    `ScalarLog`, flushed when training ends)."""

    def __init__(self, probe_data, loss, every, training=False, log_dir=None):
        super().__init__(every=every, at_start=True)
        self.probe_data = probe_data
        self.loss = loss
        self.training = training
        self.log_dir = log_dir
        self.scalars = ScalarLog(log_dir) if log_dir else None

    def on_train_end(self, logs=None):
        if self.scalars:
            self.scalars.flush()

    def on_train_begin(self, logs=None):
        self.probe = LayerProbe.shared(self.model, *self.probe_data, self.loss,
                                       training=self.training)
        super().on_train_begin(logs)
