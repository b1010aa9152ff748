"""KTH DD2424 Assignment 1: gradient checks, the CIFAR-10 loader, the quick profile."""

import os
import pickle
from pathlib import Path

from tfdl.analysis import softmax_gradients as sg
from tfdl.data import DataError, cifar10, tfds_source
from tfdl.data.files import sha256
from tfdl.harness.claims import PROTOCOL, Claim, holds, within
from tfdl.harness.cli import load_script

import numpy as np
import pytest
import tensorflow as tf

ROOT = Path(__file__).resolve().parents[1]
STANDIN = Path(os.environ.get("TFDL_DATA_DIR", "/nonexistent")) / "cifar10-jpeg"


# ## The analytic gradient (generated data, no dataset)


@pytest.mark.parametrize("lam", [0.0, 0.5])
def test_analytic_gradient_matches_centred_differences_and_tape(lam):
    x, y = sg.random_problem(d=3072, n=20, seed=3)
    w, b = sg.random_parameters(d=3072, seed=4)
    analytic = sg.analytic_gradients(x, y, w, b, lam)
    numerical = sg.numerical_gradients(x, y, w, b, lam, h=1e-3, points=4)
    tape = sg.tape_gradients(x, y, w, b, lam)
    for g_a, g_n, g_t in zip(analytic, numerical, tape):
        assert g_a.shape == g_n.shape == g_t.shape
        assert sg.max_relative_error(g_a, g_n) < 1e-6
        assert sg.max_relative_error(g_a, g_t) < 1e-9
    # 2-point centred differences agree to ~1e-10 absolute (float64 rounding over 2h).
    two_point = sg.numerical_gradients(x, y, w, b, lam, h=1e-5, points=2)
    assert max(np.abs(a - n).max() for a, n in zip(analytic, two_point)) < 1e-9


def test_gradient_check_catches_a_wrong_penalty_gradient():
    x, y = sg.random_problem(d=50, n=20, seed=5)
    w, b = sg.random_parameters(d=50, std=0.5, seed=6)
    lam = 0.5
    grad_w, _ = sg.analytic_gradients(x, y, w, b, lam)
    numerical_w, _ = sg.numerical_gradients(x, y, w, b, lam, h=1e-3, points=4)
    wrong = grad_w - lam * w  # lam * W instead of 2 lam W: the classic slip
    assert sg.max_relative_error(grad_w, numerical_w) < 1e-6
    assert sg.max_relative_error(wrong, numerical_w) > 1e-2


def test_cost_is_cross_entropy_plus_penalty():
    x = tf.constant([[1.0, 0.0], [0.0, 2.0]], tf.float64)  # d=2, n=2
    y = tf.constant([0, 1])
    w = tf.constant([[0.5, 0.0], [0.0, 0.0], [0.0, 1.0]], tf.float64)
    b = tf.zeros(3, tf.float64)
    p0 = np.exp(0.5) / (np.exp(0.5) + 2)
    p1 = np.exp(0.0) / (2 + np.exp(2.0))  # sample 2 scores (0, 0, 2), true class 1
    expected = -(np.log(p0) + np.log(p1)) / 2 + 0.3 * (0.25 + 1.0)
    assert float(sg.cost(x, y, w, b, 0.3)) == pytest.approx(expected, rel=1e-12)


# ## The loader


def _fake_batches(folder, n=30, standin=True):
    """A small python-batch folder with known contents (pickles as the official files)."""
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    ext = b".jpg" if standin else b".png"
    contents = {}
    for name in ("data_batch_1", "data_batch_2", "test_batch"):
        data = rng.integers(0, 256, (n, 3072), dtype=np.uint8)
        labels = list(rng.integers(0, 10, n))
        with open(folder / name, "wb") as f:
            pickle.dump({b"data": data, b"labels": labels, b"batch_label": name.encode(),
                         b"filenames": [b"img%d" % i + ext for i in range(n)]}, f)
        contents[name] = (data, np.array(labels))
    return contents


def _write_sums(sums_path, folder, names):
    lines = [f"{sha256(folder / n)}  {n}" for n in names]
    sums_path.write_text("\n".join(lines) + "\n")


def test_loader_reads_the_assignment_split_flat_and_image(tmp_path):
    contents = _fake_batches(tmp_path / "cifar-10-batches-py", standin=False)
    splits = cifar10.load_cifar10(data_dir=str(tmp_path))
    assert splits.sizes() == (30, 30, 30) and splits.num_classes == 10
    x, y = splits.train
    assert x.shape == (30, 3072) and x.dtype == np.float32
    np.testing.assert_allclose(x, contents["data_batch_1"][0] / 255.0, rtol=1e-6)
    np.testing.assert_array_equal(y, contents["data_batch_1"][1])
    np.testing.assert_array_equal(splits.val[1], contents["data_batch_2"][1])
    np.testing.assert_array_equal(splits.test[1], contents["test_batch"][1])
    assert splits.source.startswith("CIFAR-10 official python batches")
    assert not cifar10.is_standin(splits)
    images = cifar10.load_cifar10(data_dir=str(tmp_path), layout="image", dtype="uint8")
    raw = contents["data_batch_1"][0][0]
    assert images.train[0].shape == (30, 32, 32, 3) and images.train[0].dtype == np.uint8
    # channel-major rows: the first 1024 values are red, pixel (row 0, col 1) is index 1
    assert images.train[0][0, 0, 1, 0] == raw[1] and images.train[0][0, 0, 0, 2] == raw[2048]
    np.testing.assert_array_equal(cifar10.template_images(raw[None].astype(float))[0],
                                  images.train[0][0])


@pytest.mark.parametrize("corrupt", [False, True])
def test_standin_layout_checksums_in_parent(tmp_path, corrupt):
    # The stand-in keeps SHA256SUMS next to cifar-10-batches-py/, listing bare file names.
    folder = tmp_path / "cifar10-jpeg" / "cifar-10-batches-py"
    _fake_batches(folder)
    names = ["data_batch_1", "data_batch_2", "test_batch"]
    _write_sums(tmp_path / "cifar10-jpeg" / "SHA256SUMS", folder, names)
    if not corrupt:
        splits = cifar10.load_cifar10(data_dir=str(tmp_path))
        assert cifar10.is_standin(splits) and "stand-in" in splits.source
        return
    with open(folder / "data_batch_2", "ab") as f:
        f.write(b"x")
    with pytest.raises(DataError, match="data_batch_2 does not match its SHA-256"):
        cifar10.load_cifar10(data_dir=str(tmp_path))


def test_checksums_inside_the_batch_folder(tmp_path):
    folder = tmp_path / "cifar-10-batches-py"
    _fake_batches(folder, standin=False)
    _write_sums(folder / "SHA256SUMS", folder, ["test_batch"])
    (folder / "test_batch").write_bytes(b"corrupt")
    with pytest.raises(DataError, match="test_batch does not match"):
        cifar10.load_cifar10(data_dir=str(tmp_path))


def test_missing_data_is_a_clear_error(tmp_path, monkeypatch):
    with pytest.raises(DataError, match="CIFAR-10 .python batches. not found.*cifar-10-batches-py"):
        cifar10.load_cifar10(data_dir=str(tmp_path))
    monkeypatch.delenv("TFDL_DATA_DIR", raising=False)
    with pytest.raises(DataError, match="--data-dir"):
        cifar10.load_cifar10()
    folder = tmp_path / "cifar-10-batches-py"
    _fake_batches(folder, standin=False)
    (folder / "data_batch_2").unlink()
    with pytest.raises(DataError, match="data_batch_2 is missing"):
        cifar10.load_cifar10(data_dir=str(tmp_path))
    with pytest.raises(DataError, match="layout"):
        cifar10.load_cifar10(data_dir=str(tmp_path), layout="chw")


def test_standardize_uses_training_statistics(tmp_path):
    _fake_batches(tmp_path / "cifar-10-batches-py")
    splits = cifar10.standardize(cifar10.load_cifar10(data_dir=str(tmp_path)))
    x_train = splits.train[0]
    np.testing.assert_allclose(x_train.mean(axis=0), 0, atol=1e-5)
    np.testing.assert_allclose(x_train.std(axis=0), 1, atol=1e-4)
    assert abs(splits.val[0].mean()) > 1e-4  # normalized with train's stats, not its own


def test_tfds_path_with_mock_data(monkeypatch):
    tfds = pytest.importorskip("tensorflow_datasets")
    monkeypatch.setattr(tfds_source, "_online", lambda: True)
    with tfds.testing.mock_data(num_examples=40):
        splits = cifar10.load_cifar10(source="tfds")
        images = cifar10.load_cifar10(source="tfds", layout="image", dtype="uint8")
    assert splits.sizes() == (20, 20, 40)
    assert splits.train[0].shape == (20, 3072) and 0.0 <= splits.train[0].min()
    assert splits.train[0].max() <= 1.0 and splits.source.startswith("CIFAR-10 (tfds")
    assert not cifar10.is_standin(splits)
    # the flat rows are channel-major, as in the batch files
    image = images.train[0][0]
    np.testing.assert_allclose(splits.train[0][0][:1024], image[..., 0].ravel() / 255.0, rtol=1e-6)


def test_tfds_offline_fails_fast(tmp_path, monkeypatch):
    monkeypatch.setattr(tfds_source, "_online", lambda: False)
    with pytest.raises(DataError, match="network is unreachable"):
        cifar10.load_cifar10(source="tfds", tfds_data_dir=str(tmp_path))


@pytest.mark.skipif(not (STANDIN / "SHA256SUMS").is_file(),
                    reason="TFDL_DATA_DIR unset or has no cifar10-jpeg/ (the JPEG stand-in)")
def test_the_shared_standin_loads_and_verifies():
    splits = cifar10.load_cifar10(layout="image", dtype="uint8")
    assert splits.sizes() == (10_000, 10_000, 10_000)
    assert cifar10.is_standin(splits)
    assert np.bincount(splits.train[1]).tolist() == [1000] * 10  # class-balanced batches


# ## Data-labelled claims


def test_claim_tolerance_follows_the_data_label():
    claim = Claim("c", "accuracy", "e", reported=0.40, value=lambda m: m["acc"],
                  check=within(0.40, 0.015), data_label=lambda m: m["data"],
                  checks={"stand-in": within(0.40, 0.02)})
    real = claim.evaluate({0: {"acc": 0.382, "data": "real"}})
    standin = claim.evaluate({0: {"acc": 0.382, "data": "stand-in"}})
    assert (real["verdict"], real["tolerance"], real["claim"]) == ("FAIL", "±0.015",
                                                                   "accuracy [real]")
    assert (standin["verdict"], standin["tolerance"]) == ("PASS", "±0.02")
    assert real["reported"] == standin["reported"] == 0.40  # the same bar, a wider band


# ## The reproduction script


def _script():
    return load_script("assignment1_softmax_cifar")


def test_model_cost_matches_the_assignment():
    """Keras' L2(lam) on the kernel adds lam * sum(W^2): the compiled loss is J, and one SGD
    step moves W by -eta * (dJ/dW) of the analytic gradient."""
    script = _script()
    lam, eta = 0.7, 0.01
    model = script.build(lam, eta, seed=0)
    assert model.count_params() == 3072 * 10 + 10
    rng = np.random.default_rng(0)
    x = rng.standard_normal((100, 3072)).astype(np.float32)
    y = rng.integers(0, 10, 100)
    w0 = model.get_layer("output").kernel.numpy().T.astype(np.float64)
    b0 = model.get_layer("output").bias.numpy().astype(np.float64)
    xt, yt = tf.constant(x.T, tf.float64), tf.constant(y)
    j = float(sg.cost(xt, yt, tf.constant(w0), tf.constant(b0), lam))
    cost = script._cost_fn(model)(tf.constant(y), model(x))
    assert float(tf.reduce_mean(cost)) == pytest.approx(j, rel=1e-5)
    grad_w, grad_b = sg.analytic_gradients(xt, yt, tf.constant(w0), tf.constant(b0), lam)
    model.train_on_batch(x, y)
    np.testing.assert_allclose(model.get_layer("output").kernel.numpy().T,
                               w0 - eta * grad_w.numpy(), atol=1e-6)
    np.testing.assert_allclose(model.get_layer("output").bias.numpy(),
                               b0 - eta * grad_b.numpy(), atol=1e-6)


def test_template_tv_is_scale_free_and_lower_for_smooth_templates():
    script = _script()
    rng = np.random.default_rng(0)
    noise = rng.standard_normal((10, 3072))
    smooth = np.tile(np.linspace(-1, 1, 32), (10, 3 * 32))  # ramps along each image row
    assert script.template_tv(noise) == pytest.approx(script.template_tv(0.01 * noise))
    assert script.template_tv(smooth) < 0.2 * script.template_tv(noise)
    assert script.jaggedness([5, 1, 2, 1, 2]) == pytest.approx(np.std([1, -1, 1]))


@pytest.mark.skipif(not os.environ.get("TFDL_DATA_DIR"),
                    reason="TFDL_DATA_DIR is unset: the quick profile needs CIFAR-10 "
                           "(../shared/data offline)")
def test_quick_profile(tmp_path):
    script = _script()
    record = script.REPORT.run(profile="quick", logdir=tmp_path)
    rows = {row["id"]: row for row in record["headlines"]}
    must_hold = ["grad.lam0.centred4", "grad.lam0.tape", "grad.lam1.centred4", "grad.lam1.tape",
                 "table1.test1.accuracy_gap", "table1.test1.cost_ratio", "curves.jagged",
                 "curves.smooth_templates"]
    for claim_id in must_hold:
        assert holds(rows[claim_id]), rows[claim_id]
    # the 4-point stencil and GradientTape test our gradient, not the report's
    assert {r["id"] for r in rows.values() if r["kind"] == PROTOCOL} == {
        "grad.lam0.centred4", "grad.lam0.tape", "grad.lam1.centred4", "grad.lam1.tape"}
    metrics = record["experiments"]["four_tests"]["0"]["metrics"]
    epochs = script.PROFILES["quick"]["epochs"]
    assert len(metrics["test2"]["curves"]["train"]["loss"]) == epochs + 1
    assert len(metrics["test1_inits"]["accuracy"]) == script.CHAOS_SEEDS
    # the table says which data the run used
    assert rows["table1.test2.accuracy"]["claim"].endswith("[stand-in]") == metrics["stand_in"]
    # 8 epochs: η=0.001 runs are learning (above 0.3) but not yet at the 40-epoch numbers
    assert 0.30 < metrics["test2"]["final"]["test"]["accuracy"] < 0.42
    for test in (1, 2, 3, 4):
        assert (tmp_path / f"test{test}_templates.png").is_file()
        assert (tmp_path / f"test{test}_loss.png").is_file()
