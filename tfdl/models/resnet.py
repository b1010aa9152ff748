"""ResNet-18 (He et al. 2016) in the Keras functional API, laid out like torchvision's.

Keras applications has no ResNet-18. This one is torchvision's `resnet18`: a 7x7/2
stem convolution, batch norm, ReLU and 3x3/2 max pooling, four stages of two
BasicBlocks (64, 128, 256, 512 channels; stages 2-4 start with stride 2 and a 1x1/2
projection shortcut), global average pooling and a dense head. Padding is explicit
(`ZeroPadding2D` + "valid"), as PyTorch pads, so torchvision weights load unchanged
(`load_torchvision_state`). Layers are named after torchvision's modules with `_`
for `.` (`layer2_0_downsample_0` is `layer2.0.downsample.0`).

For 1000 classes the trainable parameter count is 11,689,512, torchvision's (batch-norm
scales and offsets are trainable; running statistics are not).

Example:

    model = resnet18(classes=1000)                     # ImageNet, 224x224x3 inputs
    small = resnet18((32, 32, 3), classes=8, width=16) # 32x32 images, quarter width
    features = backbone(small)                          # image -> 8 * width features
"""

import keras
import numpy as np

# torchvision: BatchNorm2d(eps=1e-5, momentum=0.1), i.e. Keras momentum 0.9.
BN_EPSILON = 1e-5
BN_MOMENTUM = 0.9
STAGES = (2, 2, 2, 2)
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def _conv(x, filters, kernel, stride, name):
    pad = kernel // 2
    if pad:
        x = keras.layers.ZeroPadding2D(pad, name=f"{name}_pad")(x)
    return keras.layers.Conv2D(filters, kernel, strides=stride, padding="valid", use_bias=False,
                               kernel_initializer="he_normal", name=name)(x)


def _bn(x, name):
    return keras.layers.BatchNormalization(epsilon=BN_EPSILON, momentum=BN_MOMENTUM, name=name)(x)


def _basic_block(x, filters, stride, name):
    shortcut = x
    y = _conv(x, filters, 3, stride, f"{name}_conv1")
    y = keras.layers.ReLU(name=f"{name}_relu1")(_bn(y, f"{name}_bn1"))
    y = _bn(_conv(y, filters, 3, 1, f"{name}_conv2"), f"{name}_bn2")
    if stride != 1 or x.shape[-1] != filters:
        shortcut = _bn(_conv(x, filters, 1, stride, f"{name}_downsample_0"), f"{name}_downsample_1")
    y = keras.layers.Add(name=f"{name}_add")([y, shortcut])
    return keras.layers.ReLU(name=f"{name}_relu2")(y)


def resnet18(input_shape=(224, 224, 3), classes=1000, width=64, head_activation=None,
             name="resnet18"):
    """ResNet-18 as torchvision builds it.

    Args:
        input_shape: image shape (H, W, C); any H, W >= 32 works (32x32 images reach the
            last stage as 1x1 maps).
        classes: units of the dense head `fc`; None builds the backbone only (outputs
            the pooled `8 * width` features).
        width: channels of the first stage (64 is the standard network; smaller values
            scale every stage, for quick runs).
        head_activation: activation of `fc` (None: logits, torchvision's).
        name: the model's name.
    """
    inputs = keras.Input(input_shape, name="image")
    x = _conv(inputs, width, 7, 2, "conv1")
    x = keras.layers.ReLU(name="relu")(_bn(x, "bn1"))
    x = keras.layers.ZeroPadding2D(1, name="maxpool_pad")(x)
    x = keras.layers.MaxPooling2D(3, strides=2, name="maxpool")(x)
    for stage, blocks in enumerate(STAGES, start=1):
        filters = width * 2 ** (stage - 1)
        for block in range(blocks):
            stride = 2 if stage > 1 and block == 0 else 1
            x = _basic_block(x, filters, stride, f"layer{stage}_{block}")
    x = keras.layers.GlobalAveragePooling2D(name="avgpool")(x)
    if classes is not None:
        x = keras.layers.Dense(classes, activation=head_activation, name="fc")(x)
    return keras.Model(inputs, x, name=name)


def backbone(model):
    """The part of a `resnet18` model up to its pooled features (shares its layers)."""
    return keras.Model(model.input, model.get_layer("avgpool").output,
                       name=f"{model.name}_backbone")


def with_head(features, classes, name="classifier"):
    """A new dense head `head` on a backbone's features (a fresh `fc`, as in fine-tuning)."""
    outputs = keras.layers.Dense(classes, name="head")(features.output)
    return keras.Model(features.input, outputs, name=name)


def _torch_names(model):
    """(torchvision state-dict prefix, Keras layer) for every weighted layer."""
    for layer in model.layers:
        if isinstance(layer, (keras.layers.Conv2D, keras.layers.BatchNormalization,
                              keras.layers.Dense)):
            yield layer.name.replace("_", "."), layer


def load_torchvision_state(model, state):
    """Copies a torchvision ResNet-18 `state_dict` (as numpy arrays) into `model`.

    Args:
        model: a `resnet18(...)` model of width 64; with `classes` != 1000, `fc` is left
            as initialized (a new head).
        state: mapping of torchvision names (`layer1.0.conv1.weight`, ...) to arrays, e.g.
            `np.load("resnet18_imagenet.npz")`.

    Raises:
        ValueError: a tensor is missing or has the wrong shape.
    """
    for prefix, layer in _torch_names(model):
        if isinstance(layer, keras.layers.Conv2D):
            values = [np.transpose(state[f"{prefix}.weight"], (2, 3, 1, 0))]
        elif isinstance(layer, keras.layers.BatchNormalization):
            values = [state[f"{prefix}.{k}"] for k in ("weight", "bias", "running_mean",
                                                        "running_var")]
        else:
            if state[f"{prefix}.weight"].shape[0] != layer.units:
                continue  # a new head for another task keeps its initialization
            values = [state[f"{prefix}.weight"].T, state[f"{prefix}.bias"]]
        expected = [w.shape for w in layer.get_weights()]
        if [tuple(v.shape) for v in values] != [tuple(s) for s in expected]:
            raise ValueError(f"{prefix}: shapes {[v.shape for v in values]} do not fit {expected}")
        layer.set_weights(values)


def torchvision_state(model):
    """The inverse of `load_torchvision_state`: `model`'s weights under torchvision's names."""
    state = {}
    for prefix, layer in _torch_names(model):
        weights = layer.get_weights()
        if isinstance(layer, keras.layers.Conv2D):
            state[f"{prefix}.weight"] = np.transpose(weights[0], (3, 2, 0, 1))
        elif isinstance(layer, keras.layers.BatchNormalization):
            for key, value in zip(("weight", "bias", "running_mean", "running_var"), weights):
                state[f"{prefix}.{key}"] = value
        else:
            state[f"{prefix}.weight"], state[f"{prefix}.bias"] = weights[0].T, weights[1]
    return state


def load_weights(model, path):
    """Loads ImageNet weights from a Keras `.weights.h5` file (saved from `resnet18()`) or a
    torchvision state dict saved with `np.savez` (`.npz`)."""
    path = str(path)
    if path.endswith(".npz"):
        with np.load(path) as state:
            load_torchvision_state(model, dict(state))
    else:
        source = resnet18(model.input_shape[1:], classes=1000)
        source.load_weights(path)
        load_torchvision_state(model, torchvision_state(source))
