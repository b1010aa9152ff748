"""What tfdl's callbacks share: a global step count and TensorBoard writers per directory."""

import functools

import keras
import tensorflow as tf


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
