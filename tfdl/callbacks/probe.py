"""Per-layer activations and gradients on a fixed probe batch, computed with GradientTape.

Several callbacks (histograms, gradient norms, saturation) look inside the network
at the same steps; they share one `LayerProbe` per model so each step is computed once.
"""

import weakref

from tfdl.data.tensors import as_tensor

import keras
import numpy as np
import tensorflow as tf

_PROBES = weakref.WeakKeyDictionary()


class LayerProbe:
    """Runs a probe batch through a model and returns what each Dense layer holds.

    Args:
        model: a built Keras model (Sequential or functional).
        x, y: the probe batch (numpy or tensors); kept on the device.
        loss: the loss whose gradients are reported (a Keras loss or its name).
        training: run the layers in training mode (batch-norm batch statistics); the
            running averages it would update are restored after each probe.
    """

    def __init__(self, model, x, y, loss, training=False):
        self.model = model
        self.training = training
        self.layers = [layer for layer in model.layers if isinstance(layer, keras.layers.Dense)]
        self._x = as_tensor(x)
        self._y = as_tensor(y)
        self._loss = keras.losses.get(loss)
        self._outputs = keras.Model(model.inputs, [layer.output for layer in self.layers])
        self._cached_step = None
        self._cached = None

    @classmethod
    def shared(cls, model, x, y, loss, training=False):
        """The probe for this model and batch, created on first use."""
        per_model = _PROBES.setdefault(model, {})
        key = (id(x), id(y), training)
        if key not in per_model:
            per_model[key] = cls(model, x, y, loss, training)
        return per_model[key]

    @tf.function
    def _compute(self):
        # In training mode (batch statistics, as the optimizer's steps see the network)
        # layers such as BatchNormalization update their running averages: restore them,
        # so probing leaves the model as it was.
        state = ([tf.identity(v) for v in self.model.non_trainable_variables]
                 if self.training else [])
        with tf.GradientTape() as tape:
            activations = self._outputs(self._x, training=self.training)
            loss = tf.reduce_mean(self._loss(self._y, activations[-1]))
        kernels = [layer.kernel for layer in self.layers]
        biases = [layer.bias for layer in self.layers]
        kernel_grads, bias_grads = tape.gradient(loss, [kernels, biases])
        for variable, value in zip(self.model.non_trainable_variables, state):
            variable.assign(value)
        return activations, kernel_grads, bias_grads, loss

    def at(self, step):
        """A dict per Dense layer (in order) with numpy arrays: weights, biases,
        activations, gradients (d loss / d kernel), bias_gradients; cached per step."""
        if self._cached_step != step:
            activations, kernel_grads, bias_grads, loss = self._compute()
            self._cached = {
                "loss": float(loss),
                "layers": [
                    {
                        "name": layer.name,
                        "activation": keras.activations.serialize(layer.activation),
                        "weights": layer.kernel.numpy(),
                        "biases": layer.bias.numpy(),
                        "activations": np.asarray(a),
                        "gradients": np.asarray(gk),
                        "bias_gradients": np.asarray(gb),
                    }
                    for layer, a, gk, gb in zip(self.layers, activations, kernel_grads, bias_grads)
                ],
            }
            self._cached_step = step
        return self._cached


def mean_abs_gradients_at_init(build, seeds, x, y, loss, layers, training=False, model=None):
    """`{seed: {layer: mean |d loss / d kernel|}}` of the Dense layers numbered in `layers`
    (0-based) of the nets `build(seed)` at initialization, on one probe batch `(x, y)`.

    One probe is traced once and loaded with each seed's initial weights in turn: a deep
    net's trace costs far more than a probe. With `model` (a net of `build`'s architecture)
    the probe is `model`'s shared one (`LayerProbe.shared`), so callbacks that probe `model`
    on the same batch later reuse its trace; `model` gets its own weights back.
    """
    seeds = list(seeds)
    if model is None:
        own, probe = None, LayerProbe(build(seeds[0]), x, y, loss, training=training)
    else:
        own, probe = model.get_weights(), LayerProbe.shared(model, x, y, loss, training=training)
    out = {}
    for seed in seeds:
        if own is not None or seed != seeds[0]:  # a probe of its own is seeds[0]'s, as built
            probe.model.set_weights(build(seed).get_weights())
        grads = probe.at(("init", seed))["layers"]  # a key no training step has
        out[str(seed)] = {str(i): float(np.mean(np.abs(grads[i]["gradients"]))) for i in layers}
    if own is not None:
        model.set_weights(own)
    return out
