"""Tests for reproductions/hw2_mydnn.py and the library pieces it added: the keras-tuner grid
search (tfdl.training.tuning), the synthetic regression set (tfdl.data.synthetic), surface plots and
profile-scoped claims."""

import math
import os
from pathlib import Path

from tfdl import plots, training
from tfdl.data import DataError, gaussian_bump, sample_function
from tfdl.data.synthetic import grid
from tfdl.harness import claims, cli
from tfdl.harness.claims import Claim, equals
from tfdl.harness.experiment import evaluate_claims
from tfdl.models import count_params, mlp
from tfdl.training.tuning import grid_search

import numpy as np
import pytest

# Section c of the report: weights (no biases) per architecture; row 6 corrected.
WEIGHTS = {(64,): 50_816, (128,): 101_632, (256,): 203_264, (512,): 406_528, (64, 64): 54_912,
           (512, 512): 668_672, (128, 64): 109_184, (80, 512): 108_800, (100, 200): 100_400,
           (512, 80): 443_168}


@pytest.mark.parametrize("hidden, weights", list(WEIGHTS.items()))
def test_architecture_weights_exact(hidden, weights):
    assert count_params(mlp(784, list(hidden), 10), weights_only=True) == weights


def test_report_row6_is_the_product_mistake():
    # The report's 1,342,578,688 is 784·512 + 512·512·512·10, not the sum of the layers.
    assert 784 * 512 + 512 * 512 * 512 * 10 == 1_342_578_688
    assert 784 * 512 + 512 * 512 + 512 * 10 == 668_672


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


def test_gaussian_bump_values():
    assert gaussian_bump(np.array([[0.0, 1.0]]))[0] == 0.0
    peak = gaussian_bump(np.array([[1 / math.sqrt(2), 0.0]]))[0]
    assert peak == pytest.approx(math.exp(-0.5) / math.sqrt(2))
    assert gaussian_bump(np.array([[-1.0, 0.5]]))[0] == pytest.approx(-math.exp(-1.25))


def test_sample_function_shapes_bounds_and_seed():
    splits = sample_function(gaussian_bump, train=100, test=50, val=10, seed=3)
    assert splits.sizes() == (100, 10, 50)
    x, y = splits.train
    assert x.shape == (100, 2) and y.shape == (100, 1) and x.dtype == np.float32
    assert x.min() >= -2 and x.max() <= 2
    np.testing.assert_allclose(y.ravel(), gaussian_bump(x), rtol=1e-6)
    again = sample_function(gaussian_bump, train=100, test=50, val=10, seed=3)
    np.testing.assert_array_equal(again.test[0], splits.test[0])
    other = sample_function(gaussian_bump, train=100, test=50, val=10, seed=4)
    assert not np.array_equal(other.train[0], x)
    with pytest.raises(DataError):
        sample_function(gaussian_bump, train=0, test=5)
    with pytest.raises(DataError):
        sample_function(gaussian_bump, train=5, test=5, low=1, high=1)


def test_grid_and_surfaces(tmp_path):
    x1, x2, points = grid(points=5)
    assert x1.shape == (5, 5) and points.shape == (25, 2)
    assert points[0].tolist() == [-2.0, -2.0] and points[-1].tolist() == [2.0, 2.0]
    path = plots.surfaces(tmp_path / "s.png", x1, x2,
                          {"truth": gaussian_bump(points), "zeros": np.zeros(25)}, "t",
                          points=(points[:3], np.zeros(3)))
    assert os.path.getsize(path) > 1000


def test_claim_scoped_to_a_profile_is_left_out_of_other_tables():
    claims = [Claim("a", "all", "e", 1, lambda m: m["v"], equals(1)),
              Claim("f", "full only", "e", 1, lambda m: m["v"], equals(1), profiles=("full",))]
    record = {"profile": "quick", "seeds": [0],
              "experiments": {"e": {"0": {"metrics": {"v": 1}}}}}
    assert [row["id"] for row in evaluate_claims(claims, record)] == ["a"]
    record["profile"] = "full"
    assert [row["id"] for row in evaluate_claims(claims, record)] == ["a", "f"]


def test_quick_profile_headlines(tmp_path):
    record = cli.load_report("hw2_mydnn").run(profile="quick", logdir=tmp_path)
    rows = {row["id"]: row for row in record["headlines"]}
    # reg.too_strong_* read decays 1e-3 / 1e-2, which only the full profile's grid searches.
    protocol = ({f"batch.iterations_{b}" for b in ("128", "1024", "10K", "20K")}
                | {f"arch.weights_row{i}" for i in range(1, 11)} | {"reg.none_search_noop"})
    assert set(rows) == protocol | {"batch.acc_falls", "regr.more_data_better"}
    assert {i for i, row in rows.items() if row["kind"] == claims.PROTOCOL} == protocol
    failed = [row["id"] for row in rows.values() if not claims.holds(row)]
    assert not failed, failed
    assert rows["batch.iterations_128"]["reproduced"] == 1560
    row6 = rows["arch.weights_row6"]
    assert row6["reproduced"] == 668_672
    assert row6["reported"] == 1_342_578_688 and row6["corrected"] == 668_672
    assert row6["verdict"] == "REPORT ERROR" and row6["corrected_verdict"] == "PASS"
    assert rows["arch.weights_row5"]["verdict"] == "PASS"
    assert any((tmp_path / "regularization" / "tuner" / "seed0" / "decay_l2").glob("trial_*"))
    for figure in ("fig01_batch128_loss.png", "fig06_decay_l2_accuracy.png",
                   "fig09_final_l1_loss_zoom.png", "fig10_final_l2_loss.png",
                   "fig12_regression_100_mse_vs_decay.png",
                   "fig13_regression_1000_mse_vs_decay.png",
                   "surface_regression_1000.png"):
        assert (tmp_path / figure).is_file(), figure


@pytest.mark.slow
def test_full_profile_headlines(tmp_path):
    record = cli.load_report("hw2_mydnn").run(profile="full", logdir=tmp_path)
    rows = {row["id"]: row for row in record["headlines"]}
    assert len(rows) == 46
    # The run-time rows measure this machine, not the reproduction: reported, not pinned here.
    # The own checks reg.too_strong_* came after the recorded full run: not pinned either.
    failed = sorted(i for i, row in rows.items()
                    if not claims.holds(row) and row["kind"] != claims.OWN
                    and not i.startswith("batch.runtime_"))
    assert failed == sorted(KNOWN_FULL_FAILS), failed
    assert {rows[f"regr.best_mse_{n}"]["verdict"] for n in (100, 1000)} == {"BETTER"}
    assert all(rows[f"batch.runtime_{b}"]["reproduced"] > 0 for b in ("128", "1024", "10K", "20K"))


# Full-profile headlines that did not hold in the recorded full run (seed 0): the two
# architecture rows are more accurate than the report's (see README, "Technion 236606 HW2
# (mydnn)"); the best regression MSEs (3-seed means 0.0009, 0.0005) beat the report's by more
# than the bound's factor: BETTER, which does not count as holding.
KNOWN_FULL_FAILS = ["arch.test_acc_row6", "arch.test_acc_row8", "regr.best_mse_100",
                    "regr.best_mse_1000"]
