"""tfdl.data.shuffle: tf.data's shuffled passes, bit for bit, without tf.data."""

import itertools

from tfdl.data import shuffle

import numpy as np
import pytest
import tensorflow as tf


def _tf_data_passes(n, seed):
    return (p.numpy() for p in tf.data.Dataset.range(n).shuffle(
        n, seed=seed, reshuffle_each_iteration=True).batch(n).repeat())


@pytest.mark.parametrize("global_seed, seed, n, count", [
    (0, 0, 1, 3), (0, 0, 2, 40), (0, 0, 103, 60), (1, 1, 1000, 20), (2, 2, 55_000, 3),
    (7, 3, 5, 200), (3, 5, 31, 10)])
def test_passes_are_tf_data_shuffles(global_seed, seed, n, count):
    tf.random.set_seed(global_seed)
    mine = shuffle.passes(n, seed)
    theirs = _tf_data_passes(n, seed)
    for a, b in itertools.islice(zip(mine, theirs), count):
        assert a.dtype == np.int64
        np.testing.assert_array_equal(a, b)


def test_passes_are_new_permutations_that_follow_the_global_seed():
    tf.random.set_seed(0)
    first, second = itertools.islice(shuffle.passes(500, 0), 2)
    assert sorted(first) == list(range(500)) and not np.array_equal(first, second)
    tf.random.set_seed(1)
    assert not np.array_equal(next(shuffle.passes(500, 0)), first)
