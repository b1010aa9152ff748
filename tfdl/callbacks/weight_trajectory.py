"""Flattened weights every N steps, for pictures of the optimization path."""

from tfdl.callbacks.base import StepCallback

import numpy as np


class WeightTrajectory(StepCallback):
    """Records the model's weights, flattened into one vector, every `every` steps.

    Args:
        every: record every this many steps (and at step 0).
        layers: optional names of the layers whose weights (kernel and bias) are recorded;
            None records every trainable weight.
        kernels_only: record kernels only (no biases).

    Attributes:
        steps: the steps recorded.
        weights: list of 1-D numpy arrays, one per recorded step.
    """

    def __init__(self, every=1, layers=None, kernels_only=False):
        super().__init__(every=every, at_start=True)
        self.layers = layers
        self.kernels_only = kernels_only
        self.steps, self.weights = [], []

    def _variables(self):
        chosen = []
        for layer in self.model.layers:
            if self.layers is not None and layer.name not in self.layers:
                continue
            for variable in layer.trainable_weights:
                if self.kernels_only and not variable.path.endswith("kernel"):
                    continue
                chosen.append(variable)
        return chosen

    def on_step(self, step):
        self.steps.append(step)
        self.weights.append(np.concatenate([np.ravel(v.numpy()) for v in self._variables()]))

    @property
    def matrix(self):
        """(recorded steps, weights) array."""
        return np.stack(self.weights)
