import gc

from tfdl.data import tensors
from tfdl.data.tensors import as_tensor

import numpy as np
import tensorflow as tf


def test_an_array_is_converted_once_and_released_with_it():
    x = np.arange(12, dtype=np.float32).reshape(3, 4)
    first = as_tensor(x)
    assert as_tensor(x) is first
    assert first.dtype == tf.float32 and np.array_equal(first.numpy(), x)
    view = x[:2]  # another array object: its own tensor, with its own values
    assert np.array_equal(as_tensor(view).numpy(), x[:2])
    key = id(x)
    del x, first, view
    gc.collect()
    assert key not in tensors._TENSORS


def test_dtypes_are_kept_and_non_arrays_converted_each_call():
    y = np.array([1, 2, 3], dtype=np.int64)
    assert as_tensor(y).dtype == tf.int64
    assert as_tensor(np.zeros(2)).dtype == tf.float64
    assert as_tensor([1.0, 2.0]).dtype == tf.float32
    t = tf.ones(3)
    assert as_tensor(t) is t
