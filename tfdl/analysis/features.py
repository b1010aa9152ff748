"""Input feature maps applied inside a model, e.g. before an MLP (`functional_mlp(features=)`)."""

import keras
from keras import ops


class SineFeatures(keras.layers.Layer):
    """Implicit representation: `sin(f * x_j)` for every frequency `f` and input feature `j`.

    An input of `d` features becomes `d * len(frequencies)` features, ordered frequency
    by frequency (all features at the first frequency, then the second, ...).

    Args:
        frequencies: the multipliers `f`, e.g. `[0.1, 0.2, ..., 1.0]`.
        include_input: also pass the raw input through (prepended).
    """

    def __init__(self, frequencies, include_input=False, **kwargs):
        super().__init__(**kwargs)
        self.frequencies = [float(f) for f in frequencies]
        self.include_input = include_input

    def call(self, x):
        parts = [ops.sin(f * x) for f in self.frequencies]
        if self.include_input:
            parts.insert(0, x)
        return ops.concatenate(parts, axis=-1)

    def compute_output_shape(self, input_shape):
        width = input_shape[-1] * (len(self.frequencies) + int(self.include_input))
        return (*input_shape[:-1], width)

    def get_config(self):
        return {**super().get_config(), "frequencies": self.frequencies,
                "include_input": self.include_input}
