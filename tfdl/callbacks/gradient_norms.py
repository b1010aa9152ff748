"""Per-layer gradient norms over training."""

from tfdl.callbacks.base import ProbeCallback

import numpy as np


class GradientNorms(ProbeCallback):
    """Records, per Dense layer, the L2 norm and mean absolute value of d loss / d kernel.

    Measured on a fixed probe batch, so values at different steps are comparable.

    Args:
        probe_data: `(x, y)`, a fixed batch.
        loss: the training loss.
        every: measure every this many steps (also at step 0).
        log_dir: optional TensorBoard run directory for `gradient_norm/<layer>` scalars.
        training: measure with the layers in training mode (batch norm on the probe
            batch's statistics, as in a training step); running averages are left unchanged.

    Attributes:
        steps: the steps measured.
        norms: `{layer name: [L2 norm per measured step]}`.
        mean_abs: `{layer name: [mean |gradient| per measured step]}`.
        total: L2 norm of the whole gradient (every Dense kernel and bias) per measured step.
    """

    def __init__(self, probe_data, loss, every=1, log_dir=None, training=False):
        super().__init__(probe_data, loss, every, training=training, log_dir=log_dir)
        self.steps, self.norms, self.mean_abs, self.total = [], {}, {}, []

    def on_step(self, step):
        self.steps.append(step)
        layers = self.probe.at(step)["layers"]
        self.total.append(float(np.sqrt(sum(np.sum(np.square(layer[key])) for layer in layers
                                            for key in ("gradients", "bias_gradients")))))
        for layer in layers:
            grad = layer["gradients"]
            self.norms.setdefault(layer["name"], []).append(float(np.linalg.norm(grad)))
            self.mean_abs.setdefault(layer["name"], []).append(float(np.mean(np.abs(grad))))
        if self.scalars:
            for name, values in self.norms.items():
                self.scalars.add(f"gradient_norm/{name}", step, values[-1])
