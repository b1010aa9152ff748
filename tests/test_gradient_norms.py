"""tfdl.callbacks.GradientNorms: per-layer gradient norms every N steps, and its training-mode
probe."""

from tfdl import callbacks as cb
from tfdl import training
from tfdl.analysis.hessian import gradient_norm
from tfdl.models import mlp

import numpy as np
import pytest
from conftest import two_class_points as _toy


def test_gradient_norms_total_is_the_norm_of_the_whole_gradient():
    x = np.linspace(-1, 1, 20, dtype=np.float32)[:, None]
    y = np.cos(x)
    model = training.compile_model(mlp(1, [4], 1, output_activation=None), 0.01, loss="mse",
                                   optimizer="adam", metrics=())
    norms = cb.GradientNorms((x, y), "mse", every=1)
    training.train(model, x, y, batch_size=20, steps=3, callbacks=[norms])
    assert len(norms.total) == 4
    model_now = norms.total[-1]
    assert model_now == pytest.approx(gradient_norm(model, x, y, "mse"), rel=1e-5)
    kernel_only = np.sqrt(sum(values[-1] ** 2 for values in norms.norms.values()))
    assert model_now >= kernel_only


def test_training_mode_gradient_probe_leaves_batch_norm_statistics_alone():
    x, y = _toy(64)
    model = training.compile_model(mlp(2, [4, 4], 2, batch_norm=True), 0.01, optimizer="adam")
    probe = cb.GradientNorms((x, y), "sparse_categorical_crossentropy", every=1000, training=True)
    probe.set_model(model)
    probe.on_train_begin()
    before = [v.numpy().copy() for v in model.non_trainable_variables]
    assert set(probe.mean_abs) == {"layer_1", "layer_2", "output"}
    assert all(v[0] > 0 for v in probe.mean_abs.values())
    probe.probe._cached_step = None  # force a fresh probe at the next step
    probe.on_step(1)
    for old, new in zip(before, model.non_trainable_variables):
        np.testing.assert_array_equal(old, new.numpy())


def test_probe_scalars_go_to_tensorboard_at_the_measured_steps(tmp_path):
    """GradientNorms and ActivationSaturation log `gradient_norm/<layer>` and
    `saturation/<layer>` through a ScalarLog: every measured step is on disk after training."""
    from tfdl.harness import events

    x, y = _toy(64)
    model = training.compile_model(mlp(2, [4], 2, activation="sigmoid"), 0.1)
    loss = "sparse_categorical_crossentropy"
    norms = cb.GradientNorms((x, y), loss, every=2, log_dir=tmp_path)
    saturation = cb.ActivationSaturation((x, y), loss, every=2, log_dir=tmp_path)
    training.train(model, x, y, batch_size=16, steps=6, callbacks=[norms, saturation])
    assert norms.steps == saturation.steps == [0, 2, 4, 6]
    assert events.scalars(tmp_path, "gradient_norm/layer_1") == list(zip(
        norms.steps, np.float32(norms.norms["layer_1"]).tolist()))
    assert events.scalars(tmp_path, "saturation/layer_1") == list(zip(
        saturation.steps, np.float32(saturation.fractions["layer_1"]).tolist()))
