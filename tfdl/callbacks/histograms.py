"""TensorBoard histograms of weights, biases, activations and gradients per layer."""

from tfdl.callbacks.base import ProbeCallback, summary_writer

import tensorflow as tf

KINDS = ("weights", "biases", "activations", "gradients")


class HistogramLogger(ProbeCallback):
    """Writes `<layer>/<kind>` histograms every `every` steps and at step 0.

    Keras's own TensorBoard callback logs weights only; this adds biases, the layer
    outputs (after the activation) and d loss / d kernel, measured on a fixed probe batch.

    Args:
        log_dir: the TensorBoard run directory.
        probe_data: `(x, y)`, a fixed batch (a few hundred examples is plenty).
        loss: the training loss, for the gradients.
        every: log every this many training steps.

    Example:

        model.fit(..., callbacks=[HistogramLogger("logs/run", (x[:512], y[:512]),
                                                  "sparse_categorical_crossentropy", every=100)])
    """

    def __init__(self, log_dir, probe_data, loss, every=100):
        super().__init__(probe_data, loss, every)
        self.log_dir = str(log_dir)

    def on_step(self, step):
        snapshot = self.probe.at(step)
        with summary_writer(self.log_dir).as_default(step=step):
            for layer in snapshot["layers"]:
                for kind in KINDS:
                    tf.summary.histogram(f"{layer['name']}/{kind}", layer[kind])
