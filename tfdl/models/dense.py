"""Model builders: MLPs as Sequential or functional models, and parameter counts.

Example:

    model = mlp(784, [256], 10, activation="sigmoid",
                kernel_initializer=normal_init(variance=0.1, seed=0))
    count_params(model, weights_only=True)   # 784*256 + 256*10 = 203,264
"""

import math

import keras


def normal_init(variance=None, seed=None, *, stddev=None):
    """N(0, variance) initializer; give the variance, or the standard deviation instead."""
    if (variance is None) == (stddev is None):
        raise ValueError("give exactly one of variance= or stddev=")
    if stddev is None:
        stddev = math.sqrt(variance)
    return keras.initializers.RandomNormal(mean=0.0, stddev=stddev, seed=seed)


def regularizer(l1=0.0, l2=0.0):
    """An L1/L2 weight-decay regularizer, or None when both are zero."""
    if l1 and l2:
        return keras.regularizers.L1L2(l1=l1, l2=l2)
    if l1:
        return keras.regularizers.L1(l1)
    if l2:
        return keras.regularizers.L2(l2)
    return None


def _per_layer(value, count, name):
    if isinstance(value, (list, tuple)):
        if len(value) != count:
            raise ValueError(f"{name} has {len(value)} entries for {count} hidden layers")
        return list(value)
    return [value] * count


def _dense_stack(hidden, outputs, activation, output_activation, kernel_initializer,
                 bias_initializer, batch_norm, l1, l2, dropout=0.0, batch_norm_momentum=0.99,
                 batch_norm_epsilon=1e-3):
    """The layers of an MLP, named layer_1 ... layer_k, then `output`."""
    activations = _per_layer(activation, len(hidden), "activation")
    reg = regularizer(l1, l2)

    def dense(units, act, name, index):
        return keras.layers.Dense(
            units,
            activation=act,
            kernel_initializer=_for_layer(kernel_initializer, index),
            bias_initializer=_for_layer(bias_initializer, index),
            kernel_regularizer=reg,
            name=name,
        )

    layers = []
    for i, (units, act) in enumerate(zip(hidden, activations), start=1):
        if batch_norm:
            # Dense -> BatchNorm -> activation, as in the reports' PyTorch code.
            layers.append(dense(units, None, f"layer_{i}", i))
            layers.append(keras.layers.BatchNormalization(
                momentum=batch_norm_momentum, epsilon=batch_norm_epsilon, name=f"batch_norm_{i}"))
            layers.append(keras.layers.Activation(act, name=f"activation_{i}"))
        else:
            layers.append(dense(units, act, f"layer_{i}", i))
        if dropout:
            layers.append(keras.layers.Dropout(dropout, name=f"dropout_{i}"))
    layers.append(dense(outputs, output_activation, "output", len(hidden) + 1))
    return layers


def _for_layer(initializer, index):
    """A copy of a seeded initializer for layer `index`, so layers draw different values
    while the whole model stays a function of the one seed."""
    if isinstance(initializer, keras.initializers.Initializer):
        config = initializer.get_config()
        if config.get("seed") is not None:
            config["seed"] = config["seed"] + 1000 * index
        return initializer.__class__.from_config(config)
    return initializer


def mlp(input_dim, hidden, outputs, activation="relu", output_activation="softmax",
        kernel_initializer="glorot_uniform", bias_initializer="zeros", batch_norm=False,
        l1=0.0, l2=0.0, dropout=0.0, batch_norm_momentum=0.99, batch_norm_epsilon=1e-3,
        name="mlp"):
    """A fully connected network as a `keras.Sequential`.

    Args:
        input_dim: number of input features (an int), or an input shape tuple.
        hidden: widths of the hidden layers, e.g. `[128]` or `[16] * 6`.
        outputs: width of the output layer.
        activation: one activation for every hidden layer, or a list, one per layer.
        output_activation: the output layer's activation ("softmax", None for linear).
        kernel_initializer: a Keras initializer or name; "zeros" for zero init,
            `normal_init(variance)` for N(0, variance).
        bias_initializer: as `kernel_initializer`, for biases.
        batch_norm: insert BatchNormalization between each hidden Dense and its activation.
        batch_norm_momentum, batch_norm_epsilon: the BatchNormalization settings (Keras'
            defaults; PyTorch's BatchNorm1d defaults are momentum 0.9, epsilon 1e-5 here).
        l1, l2: weight decay on every kernel (not on biases).
        dropout: dropout rate after each hidden layer.
        name: the model's name.

    Returns:
        An uncompiled `keras.Sequential`; hidden Dense layers are named
        `layer_1`, `layer_2`, ... and the last one `output`.
    """
    shape = (input_dim,) if isinstance(input_dim, int) else tuple(input_dim)
    layers = [keras.Input(shape=shape, name="input")]
    if len(shape) > 1:
        layers.append(keras.layers.Flatten(name="flatten"))
    layers += _dense_stack(hidden, outputs, activation, output_activation, kernel_initializer,
                           bias_initializer, batch_norm, l1, l2, dropout, batch_norm_momentum,
                           batch_norm_epsilon)
    return keras.Sequential(layers, name=name)


def functional_mlp(input_dim, hidden, outputs, features=None, skip_input=False,
                   name="functional_mlp", **kwargs):
    """The same MLP built with the functional API, for graphs a Sequential cannot express.

    Args:
        input_dim: number of input features.
        hidden, outputs, **kwargs: as in `mlp`.
        features: an optional layer (or callable on a KerasTensor) applied to the raw
            input first, e.g. a sine feature map for implicit representations.
        skip_input: concatenate the (featurised) input to the last hidden layer's
            output before the head, a residual-style shortcut.
        name: the model's name.
    """
    inputs = keras.Input(shape=(input_dim,), name="input")
    x = features(inputs) if features is not None else inputs
    first = x
    layers = _dense_stack(hidden, outputs, **_stack_defaults(kwargs))
    for layer in layers[:-1]:
        x = layer(x)
    if skip_input:
        x = keras.layers.Concatenate(name="skip")([x, first])
    return keras.Model(inputs, layers[-1](x), name=name)


def _stack_defaults(kwargs):
    defaults = dict(activation="relu", output_activation="softmax",
                    kernel_initializer="glorot_uniform", bias_initializer="zeros",
                    batch_norm=False, l1=0.0, l2=0.0, dropout=0.0, batch_norm_momentum=0.99,
                    batch_norm_epsilon=1e-3)
    unknown = set(kwargs) - set(defaults)
    if unknown:
        raise TypeError(f"unknown arguments: {sorted(unknown)}")
    return {**defaults, **kwargs}


def count_params(model, weights_only=False):
    """Number of trainable parameters; with `weights_only`, Dense/Conv kernels only (no biases,
    no batch-norm scales), as the reports' "weights" columns count them."""
    variables = model.trainable_weights
    if weights_only:
        variables = [v for v in variables if v.path.endswith("kernel")]
    return int(sum(math.prod(v.shape) for v in variables))


def dense_layers(model):
    """The model's Dense layers in order (hidden layers then output)."""
    return [layer for layer in model.layers if isinstance(layer, keras.layers.Dense)]
