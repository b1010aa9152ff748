"""Each callback on a tiny model, asserting the values it records and logs."""

from tfdl import callbacks as cb
from tfdl import training
from tfdl.callbacks import LayerProbe
from tfdl.harness import events
from tfdl.models import mlp, normal_init

import keras
import numpy as np
import pytest
import tensorflow as tf

LOSS = "sparse_categorical_crossentropy"


def _data(n=64, d=6, classes=3, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, d)).astype(np.float32)
    return x, (x[:, 0] > 0).astype(np.int64) + (x[:, 1] > 1)


def _model(**kwargs):
    model = mlp(6, [5], 3, **kwargs)
    return training.compile_model(model, learning_rate=0.1)


def test_histogram_logger_writes_every_kind_for_every_layer(tmp_path):
    x, y = _data()
    model = _model(activation="sigmoid")
    logger = cb.HistogramLogger(tmp_path, (x, y), LOSS, every=2)
    training.train(model, x, y, batch_size=16, steps=4, callbacks=[logger])
    tags = events.tags(tmp_path)
    for layer in ("layer_1", "output"):
        for kind in ("weights", "biases", "activations", "gradients"):
            tag = f"{layer}/{kind}"
            assert tag in tags
            steps = [s for s, _ in events.histograms(tmp_path, tag)]
            assert steps == [0, 2, 4]
    # activations histogram of layer_1 counts one value per probe example and unit
    _, buckets = events.histograms(tmp_path, "layer_1/activations")[0]
    assert buckets[:, 2].sum() == pytest.approx(64 * 5)


def test_zero_init_weight_histogram_is_all_zero_at_step_0(tmp_path):
    x, y = _data()
    model = _model(kernel_initializer="zeros")
    logger = cb.HistogramLogger(tmp_path, (x, y), LOSS, every=10)
    training.train(model, x, y, batch_size=16, steps=1, callbacks=[logger])
    step, buckets = events.histograms(tmp_path, "layer_1/weights")[0]
    assert step == 0
    nonempty = buckets[buckets[:, 2] > 0]
    assert nonempty[:, 0].min() == 0.0 and nonempty[:, 1].max() == 0.0  # every weight is 0
    assert nonempty[:, 2].sum() == 6 * 5


def test_gradient_norms_match_a_direct_tape_computation():
    x, y = _data()
    model = _model()
    norms = cb.GradientNorms((x, y), LOSS, every=1)
    norms.set_model(model)
    norms.on_train_begin()
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean(tf.keras.losses.sparse_categorical_crossentropy(y, model(x)))
    grad = tape.gradient(loss, model.get_layer("layer_1").kernel)
    assert norms.steps == [0]
    assert norms.norms["layer_1"][0] == pytest.approx(float(tf.norm(grad)), rel=1e-5)
    expected = float(tf.reduce_mean(tf.abs(grad)))
    assert norms.mean_abs["layer_1"][0] == pytest.approx(expected, rel=1e-5)


def test_mean_abs_gradients_at_init_is_each_seeds_own_net():
    """One traced probe loaded with each seed's weights gives what a fresh net of that seed
    gives on its own tape."""
    x, y = _data()

    def build(seed):
        return mlp(6, [5, 5], 3, kernel_initializer=keras.initializers.GlorotUniform(seed=seed))

    got = cb.mean_abs_gradients_at_init(build, [0, 7], x, y, LOSS, layers=[0, 2])
    assert list(got) == ["0", "7"] and got["0"] != got["7"]
    for seed in (0, 7):
        model = build(seed)
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(keras.losses.sparse_categorical_crossentropy(y, model(x)))
        dense = [layer for layer in model.layers if isinstance(layer, keras.layers.Dense)]
        grads = tape.gradient(loss, [dense[0].kernel, dense[2].kernel])
        assert got[str(seed)] == pytest.approx(
            {"0": float(tf.reduce_mean(tf.abs(grads[0]))),
             "2": float(tf.reduce_mean(tf.abs(grads[1])))}, rel=1e-5)


def test_mean_abs_gradients_at_init_through_a_models_shared_probe():
    """With `model`: the same values, through `model`'s shared probe (which a callback probing
    `model` on that batch then reuses, computing afresh at step 0); `model` keeps its weights."""
    x, y = _data()

    def build(seed):
        return mlp(6, [5, 5], 3, kernel_initializer=keras.initializers.GlorotUniform(seed=seed))

    model = build(3)
    own = model.get_weights()
    expected = cb.mean_abs_gradients_at_init(build, [0, 7], x, y, LOSS, layers=[0, 2])
    got = cb.mean_abs_gradients_at_init(build, [0, 7], x, y, LOSS, layers=[0, 2], model=model)
    assert got == expected
    for a, b in zip(model.get_weights(), own, strict=True):
        np.testing.assert_array_equal(a, b)
    probe = LayerProbe.shared(model, x, y, LOSS)
    at_start = probe.at(0)["layers"][0]["gradients"]
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean(keras.losses.sparse_categorical_crossentropy(y, model(x)))
    kernel = [layer for layer in model.layers if isinstance(layer, keras.layers.Dense)][0].kernel
    np.testing.assert_allclose(at_start, tape.gradient(loss, kernel), rtol=1e-5, atol=1e-8)


def test_saturation_grows_with_init_variance():
    x, y = _data()
    fractions = []
    for variance in (0.01, 1.0, 100.0):
        model = _model(activation="sigmoid", kernel_initializer=normal_init(variance, seed=0))
        saturation = cb.ActivationSaturation((x, y), LOSS)
        saturation.set_model(model)
        saturation.on_train_begin()
        fractions.append(saturation.fractions["layer_1"][0])
    assert fractions[0] == 0.0
    assert fractions[0] < fractions[1] < fractions[2]
    assert fractions[2] > 0.5


def test_saturated_fraction_counts_both_tails():
    assert cb.saturated_fraction([0.01, 0.5, 0.99, 0.96], "sigmoid") == 0.75
    assert cb.saturated_fraction([-0.99, 0.0, 0.5, 0.97], "tanh") == 0.5


def test_validate_every_step_records_loss_and_accuracy(tmp_path):
    x, y = _data()
    model = _model()
    validator = cb.ValidateEvery(x, y, LOSS, every=1, log_dir=tmp_path)
    training.train(model, x, y, batch_size=16, steps=5, callbacks=[validator])
    assert validator.history["step"] == [0, 1, 2, 3, 4, 5]
    expected = training.evaluate(model, x, y, LOSS)
    assert validator.history["loss"][-1] == pytest.approx(expected["loss"], rel=1e-5)
    assert validator.history["accuracy"][-1] == pytest.approx(expected["accuracy"])
    assert [s for s, _ in events.scalars(tmp_path, "val/loss")] == [0, 1, 2, 3, 4, 5]


def test_scalars_written_in_batches_are_tf_summary_scalars(tmp_path):
    x, y = _data()
    validator = cb.ValidateEvery(x, y, LOSS, every=2, log_dir=tmp_path / "run")
    result = training.train(_model(), x, y, batch_size=16, steps=6, callbacks=[validator],
                            log_dir=tmp_path / "run")
    with tf.summary.create_file_writer(str(tmp_path / "eager")).as_default():
        for step, value in enumerate(result.losses, start=1):
            tf.summary.scalar("train/loss", value, step=step)
    batched, eager = events.load(tmp_path / "run"), events.load(tmp_path / "eager")
    assert batched.SummaryMetadata("train/loss") == eager.SummaryMetadata("train/loss")
    assert ([(e.step, e.tensor_proto) for e in batched.Tensors("train/loss")]
            == [(e.step, e.tensor_proto) for e in eager.Tensors("train/loss")])
    assert events.scalars(tmp_path / "run", "val/accuracy") == list(zip(
        validator.history["step"], np.float32(validator.history["accuracy"]).tolist()))


def test_pending_scalars_are_written_when_training_raises(tmp_path):
    class Interrupt(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            if batch == 2:
                raise KeyboardInterrupt

    x, y = _data()
    with pytest.raises(KeyboardInterrupt):
        training.train(_model(), x, y, batch_size=16, steps=10, callbacks=[Interrupt()],
                       log_dir=tmp_path)
    assert [s for s, _ in events.scalars(tmp_path, "train/loss")] == [1, 2, 3]


def test_step_early_stopping_stops_and_restores_best():
    x, y = _data()
    model = _model()
    validator = cb.ValidateEvery(x, y, LOSS, every=1)
    validator.history = {"step": [], "loss": []}
    stopper = cb.StepEarlyStopping(validator, patience=2)
    stopper.set_model(model)
    best = model.get_weights()
    for step, loss in enumerate([1.0, 0.5, 0.6, 0.7, 0.4]):
        validator.history["step"].append(step * 1000)
        validator.history["loss"].append(loss)
        if step == 1:
            best = model.get_weights()
            stopper.on_train_batch_end(0)
            model.set_weights([w + 1 for w in best])
        else:
            stopper.on_train_batch_end(0)
    assert stopper.best_step == 1000 and stopper.stopped_step == 3000
    assert model.stop_training
    np.testing.assert_allclose(model.get_weights()[0], best[0])


def test_step_early_stopping_monitor_only_keeps_training():
    x, y = _data()
    model = _model()
    validator = cb.ValidateEvery(x, y, LOSS, every=1)
    stopper = cb.StepEarlyStopping(validator, patience=1, stop_training=False)
    training.train(model, x, y, batch_size=64, steps=3, callbacks=[validator, stopper])
    assert validator.history["step"] == [0, 1, 2, 3]
    assert stopper.best_step is not None


def test_batch_loss_is_each_steps_own_loss():
    x, y = _data()
    model = _model()
    before = training.evaluate(model, x, y, LOSS)["loss"]
    result = training.train(model, x, y, batch_size=64, steps=3, shuffle=False)
    # full-batch steps: step k reports the loss at the weights before update k,
    # not a running mean over the epoch
    assert len(result.losses) == 3
    assert result.losses[0] == pytest.approx(before, rel=1e-5)
    assert result.losses[0] > result.losses[1] > result.losses[2]


def test_training_steps_epochs_and_divergence():
    x, y = _data(n=50)
    model = _model()
    result = training.train(model, x, y, batch_size=16, epochs=2, drop_remainder=True)
    assert result.steps == 2 * 3 and len(result.epoch_losses) == 2 and not result.diverged
    result = training.train(_model(), x, y, batch_size=16, epochs=2)
    assert result.steps == 2 * 4
    exploding = training.compile_model(mlp(6, [], 3), learning_rate=1e30)
    result = training.train(exploding, x * 1e6, y, batch_size=16, steps=50)
    assert result.diverged and result.steps < 50
    assert training.evaluate(exploding, x, y)["accuracy"] is None


@pytest.mark.parametrize("steps, epochs, execution, every", [
    (40, None, 10, 1), (40, None, 20, 5), (None, 3, "epoch", 1), (None, 3, "epoch", 4)])
def test_validation_inside_compiled_steps_records_what_one_step_per_call_does(
        steps, epochs, execution, every):
    rng = np.random.default_rng(5)
    x = rng.normal(size=(64, 6)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int64)
    xv, yv = x[:32] + 0.1, y[:32]
    runs = []
    for per_call in (1, execution):
        model = training.compile_model(mlp(6, [8], 2, kernel_initializer=normal_init(0.1, 0)),
                                       0.1)
        val = cb.ValidateEvery(xv, yv, "sparse_categorical_crossentropy", every=every)
        result = training.train(model, x, y, batch_size=8, steps=steps, epochs=epochs,
                                callbacks=[val], seed=3, steps_per_execution=per_call)
        runs.append((val.history, result.losses, [w.copy() for w in model.get_weights()]))
    (h1, losses1, w1), (h2, losses2, w2) = runs
    assert h2 == h1 and losses2 == losses1  # same steps, same batches, same values
    assert h1["step"][:2] == [0, every]
    for a, b in zip(w1, w2):
        np.testing.assert_array_equal(a, b)
