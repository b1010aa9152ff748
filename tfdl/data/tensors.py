"""In-memory arrays as tensors, converted once per array.

An experiment reads the same splits many times: each training's batches, each `ValidateEvery`,
each final evaluation. Converting again each time copied the whole split (157 MB for MNIST's
50,000 x 784 float training images) per training run.
"""

import weakref

import numpy as np
import tensorflow as tf

_TENSORS = {}  # id(array) -> (weak reference to the array, its tensor)


def as_tensor(array):
    """`array` as a tensor: a numpy array is converted on first use and the tensor reused while
    the array lives (splits are never changed in place); anything else is converted each call."""
    if not isinstance(array, np.ndarray):
        return tf.convert_to_tensor(array)
    key = id(array)
    cached = _TENSORS.get(key)
    if cached is not None and cached[0]() is array:
        return cached[1]
    tensor = tf.convert_to_tensor(array)
    _TENSORS[key] = (weakref.ref(array, lambda _, key=key: _TENSORS.pop(key, None)), tensor)
    return tensor
