"""Report 003 (HUJI ML Methods Ex4, MLP parts): the Europe loader, sine features, decision
boundaries, many-steps-per-execution training, training-mode gradient probes, and the quick
profile's headlines."""

import hashlib
import os

from tfdl import callbacks as cb
from tfdl import training
from tfdl.analysis import boundaries
from tfdl.analysis.features import SineFeatures
from tfdl.data import DataError, load_europe
from tfdl.harness import claims
from tfdl.models import count_params, functional_mlp, mlp

import keras
import numpy as np
import pytest

# The CNN part's experiments (standin, faces) are tested in test_ex4_cnn.py.
MLP_EXPERIMENTS = ["learning_rate", "epochs", "batch_norm", "batch_size", "depth_width",
                   "gradient_magnitude", "implicit_representation"]
ROWS = {"train.csv": 40, "validation.csv": 10, "test.csv": 10}


def _write_europe(root, rows=ROWS, corrupt=None):
    folder = root / "europe"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    sums = []
    for name, n in rows.items():
        lines = [",long,lat,country"]
        for i in range(n):
            long, lat = rng.uniform(-10, 40), rng.uniform(35, 70)
            lines.append(f"{1000 + i},{long:.6f},{lat:.6f},{i % 33}")
        text = "\n".join(lines) + "\n"
        (folder / name).write_text(text)
        sums.append(f"{hashlib.sha256(text.encode()).hexdigest()}  {name}")
    (folder / "SHA256SUMS").write_text("\n".join(sums) + "\n")
    if corrupt:
        with open(folder / corrupt, "a") as f:
            f.write("999,1.0,2.0,3\n")
    return folder


def test_europe_loader_reads_the_course_format(tmp_path):
    folder = _write_europe(tmp_path)
    splits = load_europe(tmp_path)
    assert splits.sizes() == (40, 10, 10)
    assert splits.num_classes == 33
    x, y = splits.train
    assert x.shape == (40, 2) and x.dtype == np.float32 and y.dtype == np.int64
    first = (folder / "train.csv").read_text().splitlines()[1].split(",")
    np.testing.assert_allclose(x[0], [float(first[1]), float(first[2])], rtol=1e-6)
    assert list(y[:3]) == [0, 1, 2]


def test_europe_checksum_mismatch_is_a_data_error(tmp_path):
    _write_europe(tmp_path, corrupt="validation.csv")
    with pytest.raises(DataError, match="validation.csv does not match its SHA-256"):
        load_europe(tmp_path)


def test_europe_missing_folder_is_a_data_error(tmp_path):
    with pytest.raises(DataError, match="Europe countries data .* not found"):
        load_europe(tmp_path)


def test_europe_missing_data_dir_is_a_data_error(monkeypatch):
    monkeypatch.delenv("TFDL_DATA_DIR", raising=False)
    with pytest.raises(DataError, match="no data directory"):
        load_europe()


def test_sine_features_values_and_width():
    layer = SineFeatures([0.5, 2.0])
    x = np.array([[1.0, -3.0]], dtype=np.float32)
    np.testing.assert_allclose(np.asarray(layer(x)),
                               [[np.sin(0.5), np.sin(-1.5), np.sin(2.0), np.sin(-6.0)]], rtol=1e-6)
    model = functional_mlp(2, [16] * 6, 33, features=SineFeatures([0.1 * k for k in range(1, 11)]))
    # 20 sine features -> 16, five 16 -> 16, 16 -> 33 (weights and biases)
    assert count_params(model) == (20 * 16 + 16) + 5 * (16 * 16 + 16) + (16 * 33 + 33)


def test_decision_boundaries_follow_the_model(tmp_path):
    # A fixed linear "classifier": class 1 where x1 > x2.
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(2, activation="softmax")])
    model.layers[0].set_weights([np.array([[-10.0, 10.0], [10.0, -10.0]]).astype(np.float32),
                                 np.zeros(2, np.float32)])
    x = np.array([[0.0, 0.0], [1.0, 1.0]], dtype=np.float32)
    xs, ys, classes = boundaries.predict_grid(model, x, resolution=21, margin=0.0)
    gx, gy = np.meshgrid(xs, ys)
    np.testing.assert_array_equal(classes[gx > gy + 1e-6], 1)
    np.testing.assert_array_equal(classes[gx < gy - 1e-6], 0)
    path = boundaries.decision_boundaries(tmp_path / "b.png", model, x, np.array([0, 1]), "t")
    assert os.path.getsize(path) > 1000


def _toy(n=103, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 2)).astype(np.float32)
    return x, (x[:, 0] > 0).astype(np.int64)


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


REPORT_NAME, QUICK_EXPERIMENTS, NEEDS_DATA = "ex4_mlp_cnn", MLP_EXPERIMENTS, True  # quick_run


QUICK_HEADLINES = {"q1.lr1", "q1.lr1e-5.gap", "q3.epoch1", "q4.noise", "q5.chance"}


def test_quick_profile_headlines_hold(quick_run):
    _, record = quick_run
    rows = {row["id"]: row for row in record["headlines"]}
    assert QUICK_HEADLINES <= set(rows)
    assert all(rows[i]["kind"] == claims.HEADLINE for i in QUICK_HEADLINES)
    failed = [(i, rows[i]["reproduced"], rows[i]["verdicts"]) for i in QUICK_HEADLINES
              if rows[i]["verdict"] != claims.PASS]
    assert not failed


def test_quick_profile_draws_figures_and_boundaries(quick_run):
    logdir, _ = quick_run
    for name in ("q1_val_loss_by_lr.png", "q4_train_loss_by_batch.png",
                 "eval_accuracy_vs_depth.png",
                 "q5_gradient_magnitude.png"):
        assert (logdir / name).is_file(), name
    assert list((logdir / "depth_width").glob("*/seed0/decision_boundaries_best.png"))
    assert list((logdir / "implicit_representation").glob("sine/seed0/decision_boundaries.png"))


@pytest.mark.slow
def test_full_profile_headlines(tmp_path):
    if not os.environ.get("TFDL_DATA_DIR"):
        pytest.skip("TFDL_DATA_DIR is unset: the Europe data (../shared/data/europe) is needed")
    from tfdl.harness.cli import load_report

    record = load_report("ex4_mlp_cnn").run(profile="full", only=MLP_EXPERIMENTS, logdir=tmp_path)
    failed = sorted(r["id"] for r in record["headlines"]
                    if r["verdict"] != claims.NOT_RUN and not claims.holds(r))
    assert failed == sorted(KNOWN_FULL_FAILS), failed


# Full-profile headlines that did not come out for seed 0 in the recorded full run (README,
# "HUJI Ex4"): the batch-size accuracies, the depth-1 model at the tolerance's edge (0.90998 vs
# 0.910 here; 0.9101 on another CPU) and the Q5 net, which diverges for seed 0 on this CPU:
# both Q5 claims read "diverged" then (a NaN net's chance accuracy is not measured).
KNOWN_FULL_FAILS = ["q4.b1", "q4.b16", "q4.b128", "q4.b1024", "q4.best", "eval.worst_acc",
                    "q5.vanish", "q5.chance"]
