"""tfdl.training.tuning.grid_search: every value tried, the trial files, min and max objectives,
failed trials, and a weight-decay search through tfdl.training; tfdl.training.restarts.Restarts:
a restarted trial trains exactly as a freshly built model, with one traced train function for
all."""

from pathlib import Path

from tfdl import training
from tfdl.models import mlp
from tfdl.training.restarts import Restarts
from tfdl.training.tuning import grid_search

import keras
import numpy as np
import pytest


def test_grid_search_tries_every_value_and_writes_under_directory(tmp_path):
    tried = []

    def trial(value):
        tried.append(value)
        return {"val_accuracy": -(value - 0.3) ** 2, "label": f"v{value}"}

    result = grid_search(trial, "x", [0.1, 0.3, 1.0], directory=tmp_path, project_name="p")
    assert sorted(tried) == [0.1, 0.3, 1.0]
    assert result.best_value == 0.3
    assert result.values == [0.1, 0.3, 1.0]
    assert [m["label"] for m in result.metrics] == ["v0.1", "v0.3", "v1.0"]
    assert result.metrics[2]["val_accuracy"] == pytest.approx(-0.49)
    trial_dirs = sorted(p.name for p in (tmp_path / "p").iterdir() if p.name.startswith("trial_"))
    assert len(trial_dirs) == 3
    assert Path(result.directory) == tmp_path / "p"


def test_grid_search_minimizes_and_reruns_fresh(tmp_path):
    first = grid_search(lambda v: {"val_loss": v}, "x", [3.0, 1.0, 2.0], tmp_path,
                        objective="val_loss", direction="min")
    assert first.best_value == 1.0
    # Same directory again: the old search is overwritten, not resumed.
    second = grid_search(lambda v: {"val_loss": -v}, "x", [3.0, 1.0, 2.0], tmp_path,
                         objective="val_loss", direction="min")
    assert second.best_value == 3.0


def test_grid_search_failed_trial_raises(tmp_path):
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        grid_search(lambda v: {"val_accuracy": 1 / 0}, "x", [1.0, 2.0], tmp_path)


def test_grid_search_of_weight_decay_with_tfdl_training(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(256, 4)).astype(np.float32)
    y = (x @ np.array([[1.0], [-2.0], [0.5], [3.0]], dtype=np.float32))

    def trial(decay):
        model = mlp(4, [], 1, output_activation=None, kernel_initializer="zeros", l2=decay)
        training.compile_model(model, 0.05, loss="mse", optimizer="adam", metrics=())
        training.train(model, x, y, batch_size=64, epochs=40, seed=0)
        return {"val_loss": training.evaluate(model, x, y, loss="mse")["loss"]}

    result = grid_search(trial, "decay", [1e-6, 10.0], tmp_path, objective="val_loss",
                         direction="min")
    small, large = (m["val_loss"] for m in result.metrics)
    assert result.best_value == 1e-6
    assert small < 0.1 < 1.0 < large


def _decay_net(seed=3, **decay):
    model = mlp(6, [8], 3, kernel_initializer=keras.initializers.GlorotUniform(seed=seed), **decay)
    return training.compile_model(model, 0.01, optimizer="adam")


@pytest.mark.parametrize("norm", ["l1", "l2"])
def test_restarted_trials_train_exactly_as_fresh_models_with_one_trace(norm):
    rng = np.random.default_rng(1)
    x = rng.normal(size=(96, 6)).astype(np.float32)
    y = rng.integers(0, 3, size=96)

    def trained(model):
        training.train(model, x, y, batch_size=32, epochs=3, seed=5, steps_per_execution="epoch")
        return model.get_weights()

    decays = [1e-3, 0.3, 1e-3]  # the first decay again after a strong one: a full reset
    restarts = Restarts(_decay_net(**{norm: decays[0]}))
    traced = []
    for decay in decays:
        restarted = trained(restarts.start(decay))
        traced.append(restarts.model._tfdl_execution[1])
        for a, b in zip(restarted, trained(_decay_net(**{norm: decay})), strict=True):
            np.testing.assert_array_equal(a, b)
    assert traced[0] is not None and all(t is traced[0] for t in traced)
    # The strong decay trains other weights: the variable decay reached the traced function.
    assert not np.array_equal(trained(restarts.start(0.3))[0], trained(restarts.start(1e-3))[0])


def test_restarts_without_regularizer_ignore_the_decay_and_refuse_mixed_decays():
    restarts = Restarts(_decay_net())
    assert restarts.decay is None and restarts.start(0.5) is restarts.model
    mixed = _decay_net(l2=1e-3)
    mixed.trainable_weights[0].regularizer = keras.regularizers.L2(0.1)
    with pytest.raises(ValueError, match="one weight decay"):
        Restarts(mixed)
