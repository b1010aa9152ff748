"""How many sigmoid / tanh units sit in their flat tails, where gradients vanish."""

from tfdl.callbacks.base import ProbeCallback

import numpy as np

# Output range of each saturating activation: (low, high).
RANGES = {"sigmoid": (0.0, 1.0), "tanh": (-1.0, 1.0)}


def saturated_fraction(activations, activation, margin=0.05):
    """Fraction of `activations` within `margin` (as a share of the output range) of
    either end of `activation`'s range ("sigmoid" or "tanh")."""
    low, high = RANGES[activation]
    band = margin * (high - low)
    a = np.asarray(activations)
    return float(np.mean((a < low + band) | (a > high - band)))


class ActivationSaturation(ProbeCallback):
    """Records the saturated fraction of every sigmoid / tanh Dense layer.

    Args:
        probe_data: `(x, y)`, a fixed batch.
        loss: the training loss (the probe also computes gradients).
        every: measure every this many steps (also at step 0).
        margin: a unit counts as saturated within `margin` of its range's ends
            (0.05: sigmoid outputs below 0.05 or above 0.95).
        log_dir: optional TensorBoard run directory for `saturation/<layer>` scalars.

    Attributes:
        steps: the steps measured.
        fractions: `{layer name: [saturated fraction per measured step]}`.
    """

    def __init__(self, probe_data, loss, every=100, margin=0.05, log_dir=None):
        super().__init__(probe_data, loss, every, log_dir=log_dir)
        self.margin = margin
        self.steps, self.fractions = [], {}

    def on_step(self, step):
        self.steps.append(step)
        for layer in self.probe.at(step)["layers"]:
            if layer["activation"] in RANGES:
                fraction = saturated_fraction(layer["activations"], layer["activation"],
                                              self.margin)
                self.fractions.setdefault(layer["name"], []).append(fraction)
        if self.scalars:
            for name, values in self.fractions.items():
                self.scalars.add(f"saturation/{name}", step, values[-1])
