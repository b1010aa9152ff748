"""What tfdl's callbacks share: a global step count and TensorBoard writers per directory."""

import functools

from tfdl.callbacks.probe import LayerProbe

import keras
import tensorflow as tf


@functools.lru_cache(maxsize=None)
def summary_writer(log_dir):
    """One writer per directory, so callbacks logging to the same run share an event file."""
    return tf.summary.create_file_writer(str(log_dir))


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
    `training=True` probes with batch statistics, as the optimizer's steps see the network."""

    def __init__(self, probe_data, loss, every, training=False):
        super().__init__(every=every, at_start=True)
        self.probe_data = probe_data
        self.loss = loss
        self.training = training

    def on_train_begin(self, logs=None):
        self.probe = LayerProbe.shared(self.model, *self.probe_data, self.loss,
                                       training=self.training)
        super().on_train_begin(logs)
