"""One compiled model trained again from another start: a search's trials without retracing.

A freshly built and compiled model makes Keras trace its train function again: ~0.5 s a trial
for report 000's MLP on 2 cores, several seconds for a ResNet-18. `Restarts` compiles one model
and, for each trial, gives it the trial's start: initial weights, the optimizer's initial state,
a learning rate and a weight decay, each held in a variable the traced function reads. A started
trial trains exactly as a freshly built and compiled model would (the same ops on the same
values: identical weights).

Example:

    restarts = Restarts(build(l1=1e-6))          # the grid's decay goes in at start
    def trial(decay):
        model = restarts.start(decay)
        train(model, x, y, batch_size=1024, epochs=10)
        return {"val_accuracy": evaluate(model, x_val, y_val)["accuracy"]}

    model = restarts.start(weights=fresh.get_weights(), learning_rate=1e-3)  # another start
"""

import keras


class Restarts:
    """One compiled model trained again for each trial of a search.

    Args:
        model: a compiled model (`tfdl.training.compile_model`); its weights and its optimizer's
            state now are the start `start()` restores. Its L1 or L2 kernel regularizers, if
            any, must share one coefficient: they then read it from the variable `decay`.
    """

    def __init__(self, model):
        self.model = model
        self._weights = model.get_weights()
        model.optimizer.build(model.trainable_variables)
        self._optimizer = [v.numpy() for v in model.optimizer.variables]
        self.decay = None
        regularized = [v for v in model.trainable_weights if v.regularizer is not None]
        coefficients = {_coefficient(v.regularizer) for v in regularized}
        if len(coefficients) > 1:
            raise ValueError(f"Restarts needs one weight decay for all kernels, got {coefficients}")
        if coefficients:
            self.decay = keras.Variable(coefficients.pop(), trainable=False, name="weight_decay")
        for variable in regularized:
            variable.regularizer = _VariableDecay(variable.regularizer, self.decay)

    def start(self, decay=None, weights=None, learning_rate=None):
        """The model at a start: `weights` (a `get_weights()` list of a model of the same
        architecture; None: the model's own initial ones), the optimizer's initial state, and
        weight decay `decay` and `learning_rate` (None: unchanged). A model without
        regularizers takes any decay and ignores it, like a trial of "no regularizer"."""
        self.model.set_weights(self._weights if weights is None else weights)
        for variable, value in zip(self.model.optimizer.variables, self._optimizer):
            variable.assign(value)
        if decay is not None and self.decay is not None:
            self.decay.assign(decay)
        if learning_rate is not None:
            self.model.optimizer.learning_rate = learning_rate
        return self.model


def _coefficient(regularizer):
    if isinstance(regularizer, keras.regularizers.L1):
        return float(regularizer.l1)
    if isinstance(regularizer, keras.regularizers.L2):
        return float(regularizer.l2)
    raise ValueError(f"Restarts handles L1 or L2 kernel regularizers, not {regularizer!r}")


class _VariableDecay(keras.regularizers.Regularizer):
    """Keras' L1 or L2 penalty (the same ops) with its coefficient read from a variable."""

    def __init__(self, regularizer, decay):
        _coefficient(regularizer)
        self.square = isinstance(regularizer, keras.regularizers.L2)
        self.decay = decay

    def __call__(self, x):
        norm = keras.ops.square(x) if self.square else keras.ops.absolute(x)
        return keras.ops.cast(self.decay, dtype=x.dtype) * keras.ops.sum(norm)
