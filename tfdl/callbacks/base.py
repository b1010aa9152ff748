"""What tfdl's callbacks share: a global step count and TensorBoard writers per directory."""

import functools

import keras
import tensorflow as tf

from tfdl.callbacks.probe import LayerProbe


@functools.lru_cache(maxsize=None)
def summary_writer(log_dir):
    """One writer per directory, so callbacks logging to the same run share an event file."""
    return tf.summary.create_file_writer(str(log_dir))


class StepCallback(keras.callbacks.Callback):
    """A callback that acts every `every` training steps (and at step 0 if `at_start`).

    Subclasses implement `on_step(step)`; `self.step` counts the optimizer steps done.
    """

    def __init__(self, every=1, at_start=False):
        super().__init__()
        if every < 1:
            raise ValueError(f"every must be >= 1, got {every}")
        self.every = every
        self.at_start = at_start
        self.step = 0

    def on_train_begin(self, logs=None):
        if self.at_start and self.step == 0:
            self.on_step(0)

    def on_train_batch_end(self, batch, logs=None):
        self.step += 1
        if self.step % self.every == 0:
            self.on_step(self.step)

    def on_step(self, step):
        raise NotImplementedError


class ProbeCallback(StepCallback):
    """A `StepCallback` that looks inside the model through the shared `LayerProbe`
    on a fixed batch, at step 0 and every `every` steps (`self.probe.at(step)`)."""

    def __init__(self, probe_data, loss, every):
        super().__init__(every=every, at_start=True)
        self.probe_data = probe_data
        self.loss = loss

    def on_train_begin(self, logs=None):
        self.probe = LayerProbe.shared(self.model, *self.probe_data, self.loss)
        super().on_train_begin(logs)
