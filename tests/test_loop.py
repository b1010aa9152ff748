"""tfdl.training.loop.train with many steps per execution: every step's loss, validation steps,
the same first epoch, an exact step budget, the training of Keras' fit on tf.data."""

import itertools
import threading

from tfdl import callbacks as cb
from tfdl import training
from tfdl.data import shuffle
from tfdl.models import mlp
from tfdl.training import loop

import keras
import numpy as np
import pytest
import tensorflow as tf
from conftest import two_class_points as _toy


@pytest.mark.parametrize("steps_per_execution", [1, 10])
def test_every_step_loss_recorded_with_many_steps_per_execution(steps_per_execution):
    x, y = _toy()
    model = training.compile_model(mlp(2, [8], 2), 0.05, optimizer="sgd")
    val = cb.ValidateEvery(x, y, "sparse_categorical_crossentropy", every=11)
    result = training.train(model, x, y, batch_size=5, epochs=3, callbacks=[val],
                            steps_per_execution=steps_per_execution)
    assert result.steps == 3 * 21  # 103 examples in batches of 5: 21 steps per epoch
    assert len(result.epoch_losses) == 3
    assert int(model.optimizer.iterations.numpy()) == 63
    # Executions end at each epoch's end (step 21, 42, 63): validation fires at the first
    # execution end at/after each multiple of 11, and is told the true step.
    expected = ([0, 11, 22, 33, 44, 55] if steps_per_execution == 1 else [0, 20, 31, 41, 52, 62])
    assert val.history["step"] == expected


def test_first_epoch_identical_with_and_without_steps_per_execution():
    x, y = _toy()
    losses = []
    for k in (1, 7):
        keras.utils.set_random_seed(0)
        model = training.compile_model(mlp(2, [8], 2), 0.05, optimizer="sgd")
        losses.append(training.train(model, x, y, batch_size=5, epochs=1, seed=3,
                                     steps_per_execution=k).losses)
    np.testing.assert_allclose(losses[0], losses[1], rtol=1e-5)


def test_step_budget_with_many_steps_per_execution_is_exact():
    x, y = _toy()
    model = training.compile_model(mlp(2, [8], 2), 0.05, optimizer="sgd")
    result = training.train(model, x, y, batch_size=5, steps=45, steps_per_execution=20)
    assert result.steps == 45 and int(model.optimizer.iterations.numpy()) == 45


def test_predict_equals_keras_predict_bit_for_bit():
    x, _ = _toy()
    model = mlp(2, [8], 1, output_activation=None)
    np.testing.assert_array_equal(training.predict(model, x), model.predict(x, verbose=0))


def _keras_fit(model, x, y, batch, seed, k, epochs=None, steps=None, drop_remainder=False):
    """Keras' `fit` on a tf.data pipeline of seeded shuffled batches from one iterator, `k`
    steps per execution (tiling each epoch, or crossing passes within a step budget)."""
    per_epoch = steps or training.steps_per_epoch(len(y), batch, drop_remainder)
    data = (tf.data.Dataset.range(len(y)).shuffle(len(y), seed=seed, reshuffle_each_iteration=True)
            .batch(batch, drop_remainder=drop_remainder).repeat()
            .map(lambda i: (tf.gather(x, i), tf.gather(y, i))))
    model.steps_per_execution = min(per_epoch, k) if k != "epoch" else per_epoch
    model.fit(data.take(steps) if steps else data, epochs=epochs or 1,
              steps_per_epoch=None if steps else per_epoch, shuffle=False, verbose=0)


def _trained(fit, k, epochs, steps, drop_remainder):
    x, y = _toy()
    keras.utils.set_random_seed(0)
    model = training.compile_model(mlp(2, [8, 8], 2, batch_norm=True), 0.05, optimizer="adam")
    fit(model, x, y, 5, seed=3, epochs=epochs, steps=steps, drop_remainder=drop_remainder,
        **{"steps_per_execution" if fit is training.train else "k": k})
    return model.get_weights()


@pytest.mark.parametrize("k, epochs, steps, drop_remainder", [
    (1, 3, None, False), ("epoch", 3, None, False), (7, 3, None, False), (30, 3, None, True),
    (20, None, 45, False), ("epoch", None, 50, True)])
def test_trains_exactly_as_keras_fit_on_a_tf_data_pipeline(k, epochs, steps, drop_remainder):
    for a, b in zip(_trained(training.train, k, epochs, steps, drop_remainder),
                    _trained(_keras_fit, k, epochs, steps, drop_remainder), strict=True):
        np.testing.assert_array_equal(a, b)


def test_executions_cut_at_each_epoch_end_train_on_the_batches_of_one_step_per_call():
    # 21 steps an epoch in executions of 8: 8, 8, 5 per epoch, and the batches of 1.
    for a, b in zip(_trained(training.train, 8, 3, None, False),
                    _trained(training.train, 1, 3, None, False), strict=True):
        np.testing.assert_array_equal(a, b)


def test_passes_computed_ahead_are_the_shuffles_and_stop_with_the_run():
    """Each pass's order is computed one pass ahead in a thread: the same permutations as
    `tfdl.data.shuffle.passes` in the same order, and the thread is gone once the run's order
    generator is closed."""
    tf.random.set_seed(7)
    expected = list(itertools.islice(shuffle.passes(1000, 3), 5))
    tf.random.set_seed(7)
    ahead = loop._passes(1000, 10, seed=3)
    got = [next(ahead) for _ in range(5)]
    assert all(np.array_equal(a, b) for a, b in zip(got, expected))
    assert any(t.name.startswith("tfdl-shuffle") for t in threading.enumerate())
    ahead.close()
    assert not any(t.name.startswith("tfdl-shuffle") for t in threading.enumerate())
