"""tfdl.training.tuning.grid_search: every value tried, the trial files, min and max objectives,
failed trials, and a weight-decay search through tfdl.training."""

from pathlib import Path

from tfdl import training
from tfdl.models import mlp
from tfdl.training.tuning import grid_search

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
