"""tf.data's shuffled passes over `range(n)`, computed without tf.data.

Every training run in tfdl visits its examples in the order of

    tf.data.Dataset.range(n).shuffle(n, seed, reshuffle_each_iteration=True).batch(n).repeat()

(the order Keras' `fit` gives a seeded tf.data pipeline). tf.data makes each pass element by
element, ~1.7 µs per example of CPU (0.1 s for MNIST's 55,000, 0.2 s for 107,000 points), which
on two cores took 15-20 % of a long run of a small net. `passes` makes the same permutations from
the same random numbers at ~0.35-0.5 µs per example: TensorFlow's Philox4x32-10 (lib/random/
philox_random.h), drawn as tf.data draws them (kernels/data/shuffle_dataset_op.cc with its
RandomSeedGenerator: each pass takes two 32-bit draws of the dataset's generator as the seeds of
its own; a buffer holding the whole pass, element i is swapped with element
`i + draw % (n - i)`). tests/test_shuffle.py checks them against tf.data bit for bit.
"""

import random

import numpy as np
import tensorflow as tf

_M0, _M1 = np.uint64(0xD2511F53), np.uint64(0xCD9E8D57)  # Philox4x32 multipliers
_W0, _W1 = np.uint32(0x9E3779B9), np.uint32(0xBB67AE85)  # its key increments
_LOW = np.uint64(0xFFFFFFFF)


def _philox(key, counter_high, count, skip=0):
    """`count` uint32 draws of TensorFlow's `PhiloxRandom(key, counter_high)`, one at a time
    (`SingleSampleAdapter`), after the first `skip`: blocks of 4, counters 0, 1, 2, ..."""
    first = skip // 4
    index = np.arange(first, (skip + count + 3) // 4, dtype=np.uint64)
    c0, c1 = (index & _LOW).astype(np.uint32), (index >> np.uint64(32)).astype(np.uint32)
    c2 = np.full(len(index), counter_high & 0xFFFFFFFF, np.uint32)
    c3 = np.full(len(index), (counter_high >> 32) & 0xFFFFFFFF, np.uint32)
    k0, k1 = np.uint32(key & 0xFFFFFFFF), np.uint32((key >> 32) & 0xFFFFFFFF)
    with np.errstate(over="ignore"):  # uint32 arithmetic wraps, as in C++
        for _ in range(10):
            p0, p1 = _M0 * c0.astype(np.uint64), _M1 * c2.astype(np.uint64)
            c0, c1, c2, c3 = ((p1 >> np.uint64(32)).astype(np.uint32) ^ c1 ^ k0,
                              (p1 & _LOW).astype(np.uint32),
                              (p0 >> np.uint64(32)).astype(np.uint32) ^ c3 ^ k1,
                              (p0 & _LOW).astype(np.uint32))
            k0, k1 = k0 + _W0, k1 + _W1
    draws = np.stack([c0, c1, c2, c3], axis=1).reshape(-1)
    return draws[skip - 4 * first:skip - 4 * first + count]


def passes(n, seed):
    """The example order of each pass of the pipeline above, endlessly (int64 arrays of
    `range(n)`). `seed` is the op seed as `Dataset.shuffle` takes it; like tf.data, the pair of
    seeds also depends on TensorFlow's global seed (`tf.random.set_seed`), read once here."""
    seed, seed2 = tf.compat.v1.get_seed(seed)
    if seed is None:  # no global and no op seed: tf.data shuffles nondeterministically
        seed, seed2 = random.getrandbits(32), random.getrandbits(32)
    index = np.arange(n, dtype=np.int64)
    spans = n - index
    draw = 0
    while True:
        pass_seed, pass_seed2 = (int(s) for s in _philox(seed, seed2, 2, skip=draw))
        draw += 2
        targets = (index + _philox(pass_seed, pass_seed2, n) % spans).tolist()
        order = list(range(n))
        for i, j in enumerate(targets):
            order[i], order[j] = order[j], order[i]
        yield np.array(order, dtype=np.int64)
