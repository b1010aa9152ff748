"""The transfer-learning protocol of report 003's part 3 (tfdl.training.transfer: which weights
each mode trains, the pretraining loss and weight cache, the checked pretraining, lr search, sample
selection, scikit-learn / XGBoost, the five models, the CIFAR-10 stand-in and the faces protocol)
and the stand-in's class split (tfdl.data.cifar10.held_out_task), on small data the tests make."""

from tfdl.data import DataError, Splits
from tfdl.data.cifar10 import held_out_task
from tfdl.harness.fingerprint import code_fingerprint
from tfdl.models.resnet import resnet18
from tfdl.training import transfer

import numpy as np
import pytest
import tensorflow as tf
from conftest import count_weights as _count
from conftest import needs_extra


def _cifar_like(n_per_class=(4, 3, 2), classes=5, seed=0):
    """Splits of (n, 4, 4, 3) images whose every pixel is the class id (train, val, test:
    n_per_class[i] images per class, classes cycling)."""
    rng = np.random.default_rng(seed)

    def split(n):
        y = np.tile(np.arange(classes), n)
        rng.shuffle(y)
        return np.broadcast_to(y[:, None, None, None], (len(y), 4, 4, 3)).astype("float32"), y

    return Splits(*(split(n) for n in n_per_class), num_classes=classes, source="fake")


def test_held_out_task_relabels_and_cuts():
    splits = _cifar_like()
    (x, y), (x_val, y_val), task = held_out_task(splits, (1, 3))
    # pretraining: classes 0, 2, 4 -> 0, 1, 2; train images before val images
    remap = {0: 0, 2: 1, 4: 2}
    tr, va = splits.train[1], splits.val[1]
    expected = [remap[c] for c in np.concatenate([tr, va]) if c in remap]
    assert y.tolist() == expected and len(y) == 3 * (4 + 3)
    assert [remap[int(v)] for v in x[:, 0, 0, 0]] == y.tolist()  # images follow their labels
    assert y_val.tolist() == [remap[c] for c in splits.test[1] if c in remap]
    # binary task: class 3 is 1, class 1 is 0, per split in order
    for name, n in (("train", 4), ("val", 3), ("test", 2)):
        xs, ys = task[name]
        original = getattr(splits, name)[1]
        assert ys.tolist() == [int(c == 3) for c in original if c in (1, 3)]
        assert len(ys) == 2 * n and ys.dtype == np.int64
        assert np.array_equal(xs[:, 0, 0, 0], np.where(ys == 1, 3, 1))
    # first-N cuts
    (x, y), (x_val, y_val), task = held_out_task(splits, (1, 3), 5, 2, 3)
    assert len(y) == 5 and len(y_val) == 2 and all(len(v[1]) == 3 for v in task.values())
    assert y.tolist() == expected[:5]


def _build(classes=3):
    return resnet18((32, 32, 3), classes=classes, width=4)


def _easy(n=32, seed=0):
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 2
    x = rng.normal(0, 0.3, (n, 32, 32, 3)) + (2 * y - 1)[:, None, None, None]
    return x.astype("float32"), y.astype(np.int64)


def test_pretrain_checked_caches_and_checks(tmp_path):
    x, y = _easy()
    cache = tmp_path / "p.weights.h5"
    model, info = transfer.pretrain_checked(_build, x, y % 3, x[:8], y[:8] % 3, 0.001, 16, 1,
                                            cache)
    assert cache.is_file() and info["cache_roundtrip"] is True
    assert set(info) == {"cached", "steps", "wall_s", "cpu_s", "examples", "val_accuracy",
                         "cache", "cache_roundtrip"}
    assert not info["cached"] and info["steps"] == 2 and info["examples"] == 32
    assert info["cache"] == str(cache)
    assert info["val_accuracy"] == pytest.approx(
        np.mean(transfer.predict(model, x[:8]) == y[:8] % 3))
    _, again = transfer.pretrain_checked(_build, x, y % 3, x[:8], y[:8] % 3, 0.001, 16, 1, cache)
    assert again["cached"] and again["steps"] == 0 and again["cache_roundtrip"]
    assert again["val_accuracy"] == info["val_accuracy"]


def test_contrast_images():
    rows = {"test_accuracy": {"a": 0.9, "b": 0.2, "c": 0.5}, "test_labels": [0, 1, 0, 1],
            "test_predictions": {"a": [0, 1, 0, 0], "b": [1, 0, 0, 1], "c": [0, 0, 0, 0]}}
    images = np.zeros((4, 2, 2, 3))
    images[0], images[1] = 0.5, 1.7
    out = transfer.contrast_images(rows, images)
    # right by the best (a), wrong by the worst (b): image 0 (class 0) and image 1 (class 1)
    assert (out["best"], out["worst"]) == ("a", "b") and out["indices"] == {0: [0], 1: [1]}
    assert np.asarray(out["images"][0]).tolist() == np.full((1, 2, 2, 3), 127).tolist()
    assert np.asarray(out["images"][1]).tolist() == np.full((1, 2, 2, 3), 255).tolist()  # clipped
    rows["test_predictions"]["a"] = [1, 0, 1, 0]  # a right nowhere: no samples, empty lists
    assert transfer.contrast_images(rows, images)["images"] == {0: [], 1: []}


@needs_extra
def test_transfer_rows_one_lr_for_the_three_cnn_rows(monkeypatch):
    """The lr is chosen on the validation accuracy averaged over the three modes (here 0.001,
    though scratch alone prefers 0.01), and its runs give the three CNN rows."""
    val = {"scratch": {"0.01": 0.9, "0.001": 0.5}, "probe": {"0.01": 0.2, "0.001": 0.6},
           "finetune": {"0.01": 0.3, "0.001": 0.6}}
    x, y = _easy(24)
    test_y = y[16:]
    calls, shared = [], []

    def fake_fit_and_score(model, data, lr, batch_size, epochs, seed=0, optimizer="adam",
                           label=None, restarts=None):
        mode = label.split()[0]
        calls.append((mode, lr, batch_size, epochs, seed, optimizer, model.output_shape))
        shared.append(restarts)
        # predictions: right on the first k test images, k from the mode and lr
        k = {"scratch": 1, "probe": 2, "finetune": 3}[mode] + (4 if lr == 0.001 else 0)
        predicted = np.where(np.arange(len(test_y)) < k, test_y, 1 - test_y).tolist()
        return {"final": {"val": {"accuracy": val[mode][f"{lr:g}"]},
                          "test": {"accuracy": k / len(test_y)}},
                "test_predictions": predicted}

    monkeypatch.setattr(transfer, "fit_and_score", fake_fit_and_score)
    data = {"train": (x[:12], y[:12]), "val": (x[12:16], y[12:16]), "test": (x[16:], test_y)}
    pixels = {"train": (x[:12, :4, :4], y[:12]), "test": (x[16:, :4, :4], test_y)}
    lines = []
    out = transfer.transfer_rows(data, pixels, _build(), _build, [0.01, 0.001], 16, 1, seed=3,
                                 optimizer="sgd", xgb_trees=3, log=lines.append)
    assert [c[:2] for c in calls] == [(m, lr) for m in transfer.MODES for lr in (0.01, 0.001)]
    assert all(c[2:] == (16, 1, 3, "sgd", (None, 2)) for c in calls)  # a new 2-logit head
    assert isinstance(shared[0], dict) and all(r is shared[0] for r in shared)  # one search
    assert out["mean_val_accuracy"] == pytest.approx({"0.01": 1.4 / 3, "0.001": 1.7 / 3})
    assert out["chosen_lr"] == 0.001
    assert out["lr_search"]["scratch"] == {"best_lr": 0.01, "val_accuracy": val["scratch"]}
    assert out["lr_search"]["probe"]["best_lr"] == 0.001
    assert {m: out["test_accuracy"][m] for m in transfer.MODES} == \
        {"scratch": 5 / 8, "probe": 6 / 8, "finetune": 7 / 8}
    assert out["test_predictions"]["finetune"] == [int(v) for v in test_y[:7]] + [1 - test_y[7]]
    assert set(out["test_accuracy"]) == set(transfer.ROWS) == set(out["test_predictions"])
    for row in ("logreg", "xgboost"):  # real scikit-learn / XGBoost fits
        predicted = np.asarray(out["test_predictions"][row])
        assert out["test_accuracy"][row] == pytest.approx(np.mean(predicted == test_y))
    assert out["test_labels"] == test_y.tolist()
    assert len(lines) == 4 and lines[-1].startswith("chosen lr 0.001; test accuracy")


def test_cifar_standin_wires_split_normalization_pretraining_and_rows(tmp_path, monkeypatch):
    rng = np.random.default_rng(0)

    def split(n):
        return rng.uniform(0, 1, (n, 32, 32, 3)).astype("float32"), np.arange(n) % 4

    splits = Splits(split(24), split(16), split(16), num_classes=4, source="fake stand-in")
    seen = {}

    def fake_rows(data, pixels, pretrained, build, **settings):
        seen.update(data=data, pixels=pixels, settings=settings, head=build().output_shape)
        labels = pixels["test"][1]
        accuracy = {r: {"probe": 1.0, "scratch": 0.0}.get(r, 0.5) for r in transfer.ROWS}
        return {"test_accuracy": accuracy, "test_labels": labels.tolist(),
                "test_predictions": {r: labels.tolist() if r == "probe" else (1 - labels).tolist()
                                     for r in transfer.ROWS}}

    monkeypatch.setattr(transfer, "transfer_rows", fake_rows)
    lines = []
    out = transfer.cifar_standin(splits, (1, 3), 4, 0.001, 8, 1, tmp_path / "cache",
                                 pretrain_examples=20, task_examples=6, seed=2, log=lines.append,
                                 learning_rates=[0.01], batch_size=8, epochs=1)
    (x, _), _, task = held_out_task(splits, (1, 3), 20, None, 6)
    mean, std = transfer.channel_stats(x)  # the pretraining images' statistics normalize all
    for name in ("train", "val", "test"):
        np.testing.assert_array_equal(seen["pixels"][name][0], task[name][0])
        np.testing.assert_allclose(seen["data"][name][0], (task[name][0] - mean) / std,
                                   rtol=1e-5, atol=1e-5)
        assert seen["data"][name][1].tolist() == task[name][1].tolist()
    assert seen["settings"] == {"learning_rates": [0.01], "batch_size": 8, "epochs": 1,
                                "seed": 2, "optimizer": "adam", "log": lines.append}
    assert seen["head"] == (None, 2)  # "ImageNet" = the 2 classes not held out
    assert out["data"] == "stand-in" and out["source"] == "fake stand-in"
    assert out["sizes"] == {"train": 6, "val": 6, "test": 6}
    assert out["class_names"] == ["automobile", "cat"]
    pretrain = out["pretrain"]
    assert pretrain["examples"] == 20 and pretrain["steps"] == 3  # 20 images, batch 8
    assert pretrain["cache_roundtrip"] and not pretrain["cached"]
    code = code_fingerprint(transfer.__file__)  # the pretraining code, and what it imports
    assert pretrain["cache"] == str(tmp_path / "cache" / (
        f"resnet18_cifar2-batch=8-code={code}-epochs=1-held_out=1.3-lr=0.001-n=20-"
        "optimizer=adam-seed=2-width=4.weights.h5"))
    assert lines[0].startswith("pretraining: 3 steps") and "2-class accuracy" in lines[0]
    # the samples: the test images (pixels) right by the best row, wrong by the worst
    samples = out["samples"]
    assert (samples["best"], samples["worst"]) == ("probe", "scratch")
    labels = task["test"][1]
    assert samples["indices"] == {c: np.flatnonzero(labels == c).tolist() for c in (0, 1)}
    for c in (0, 1):
        np.testing.assert_array_equal(
            samples["images"][c], (task["test"][0][labels == c] * 255).astype(np.uint8))


def test_faces_protocol_unloadable_weights_is_a_data_error(tmp_path):
    for split in ("train", "val", "test"):
        for cls in ("fake", "real"):
            folder = tmp_path / split / cls
            folder.mkdir(parents=True)
            tf.io.write_file(str(folder / "0.png"), tf.io.encode_png(tf.zeros((8, 8, 3), tf.uint8)))
    (tmp_path / "w.npz").write_bytes(b"not weights")
    with pytest.raises(DataError, match="cannot load"):
        transfer.faces_protocol(tmp_path, tmp_path / "w.npz", size=32, xgb_size=8,
                                learning_rates=[0.01], batch_size=2, epochs=1)


# ## The helpers one by one, on ResNet-18s of width 4


def _easy_images(n=64, seed=0):
    """Two classes that differ in brightness."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 2
    x = rng.normal(0, 0.3, (n, 32, 32, 3)).astype("float32") + (2 * y - 1)[:, None, None, None]
    return x.astype("float32"), y.astype(np.int64)


def test_transfer_modes_train_the_right_weights():
    pretrained = _build()
    x, y = _easy_images()
    data = {"train": (x, y), "val": (x, y), "test": (x, y)}
    probe = transfer.transfer_model(pretrained, "probe", classes=2, build=_build)
    assert [w.path for w in probe.trainable_weights] == ["head/kernel", "head/bias"]
    frozen = probe.get_layer("layer1_0_conv1").get_weights()[0].copy()
    run = transfer.fit_and_score(probe, data, 0.01, 16, 1, label=None)
    np.testing.assert_array_equal(probe.get_layer("layer1_0_conv1").get_weights()[0], frozen)
    # training.fit's record, scored on val and test, plus the test predictions
    assert set(run) >= {"final", "curves", "train", "epoch_loss", "steps", "diverged", "wall_s",
                        "loss_noise", "test_predictions"}
    assert set(run["final"]) == {"val", "test"} and run["steps"] == 4  # 64 images, batch 16
    assert all(0.0 <= run["final"][s]["accuracy"] <= 1.0 for s in ("val", "test"))
    assert len(run["test_predictions"]) == len(y)
    assert run["final"]["test"]["accuracy"] == pytest.approx(
        np.mean(np.asarray(run["test_predictions"]) == y))

    finetune = transfer.transfer_model(pretrained, "finetune", classes=2, build=_build)
    np.testing.assert_array_equal(finetune.get_layer("conv1").get_weights()[0],
                                  pretrained.get_layer("conv1").get_weights()[0])
    assert _count(finetune.trainable_weights) == (
        _count(pretrained.trainable_weights) - _count(pretrained.get_layer("fc").trainable_weights)
        + _count(finetune.get_layer("head").weights))
    before = finetune.get_layer("conv1").get_weights()[0].copy()
    transfer.fit_and_score(finetune, data, 0.01, 16, 1)
    assert not np.allclose(finetune.get_layer("conv1").get_weights()[0], before)
    # the pretrained model itself is never touched
    np.testing.assert_array_equal(pretrained.get_layer("conv1").get_weights()[0], before)

    scratch = transfer.transfer_model(pretrained, "scratch", classes=2, build=_build)
    assert not np.allclose(scratch.get_layer("conv1").get_weights()[0], before)
    with pytest.raises(ValueError, match="unknown mode"):
        transfer.transfer_model(pretrained, "frozen", classes=2, build=_build)


def test_restarted_runs_train_as_models_compiled_anew():
    """fit_and_score with `restarts`: a scratch run on the model compiled for a fine-tune run
    (another lr, other weights) gives the record of that scratch model compiled anew, through
    the same traced function; a probe run (another trainable set) gets its own model."""
    pretrained = _build()
    x, y = _easy_images()
    data = {"train": (x, y), "val": (x, y), "test": (x, y)}
    restarts = {}
    transfer.fit_and_score(transfer.transfer_model(pretrained, "finetune", 2, _build), data,
                           0.01, 16, 1, restarts=restarts)
    (first,) = restarts.values()
    traced = first.model._tfdl_execution[1]
    scratch = transfer.transfer_model(pretrained, "scratch", 2, _build)
    anew = transfer.transfer_model(pretrained, "scratch", 2, _build)
    anew.set_weights(scratch.get_weights())
    restarted = transfer.fit_and_score(scratch, data, 0.001, 16, 1, seed=2, restarts=restarts)
    expected = transfer.fit_and_score(anew, data, 0.001, 16, 1, seed=2)
    assert first.model._tfdl_execution[1] is traced and list(restarts.values()) == [first]
    assert restarted["train"]["loss"] == expected["train"]["loss"]
    assert restarted["final"] == expected["final"]
    assert restarted["test_predictions"] == expected["test_predictions"]
    for a, b in zip(first.model.get_weights(), anew.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    transfer.fit_and_score(transfer.transfer_model(pretrained, "probe", 2, _build), data,
                           0.01, 16, 1, restarts=restarts)
    assert len(restarts) == 2


def test_pretrain_caches_weights(tmp_path):
    x, y = _easy_images(32)
    cache = tmp_path / transfer.cache_name("tiny", width=4, epochs=1)
    assert cache.name == "tiny-epochs=1-width=4.weights.h5"
    model, info = transfer.pretrain(_build, x, y % 3, 0.001, 16, 1, cache=cache)
    assert not info["cached"] and info["steps"] == 2 and cache.is_file()
    again, info2 = transfer.pretrain(_build, x, y % 3, 0.001, 16, 1, cache=cache)
    assert info2 == {"cached": True, "steps": 0, "wall_s": 0.0, "cpu_s": 0.0, "losses": []}
    np.testing.assert_allclose(again(x[:4], training=False), model(x[:4], training=False),
                               atol=1e-6)


def test_pretrain_loss_is_cross_entropy_on_the_logits():
    x, y = _easy_images(32)
    y = y % 3
    reference = _build()

    def build():
        model = _build()
        model.set_weights(reference.get_weights())
        return model

    _, info = transfer.pretrain(build, x, y, 0.001, len(y), 1)  # one full-batch step
    logits = reference(x, training=True)
    expected = tf.keras.losses.sparse_categorical_crossentropy(y, logits, from_logits=True)
    assert info["losses"][0] == pytest.approx(float(tf.reduce_mean(expected)), rel=1e-4)


def test_lr_search_picks_best_validation_first_on_ties():
    scores = {0.01: 0.6, 0.001: 0.8, 0.0001: 0.8}
    best, runs = transfer.lr_search(lambda lr: {"final": {"val": {"accuracy": scores[lr]}}},
                                    [0.01, 0.001, 0.0001])
    assert best == 0.001 and set(runs) == {"0.01", "0.001", "0.0001"}


def test_contrast_samples():
    labels = [0, 1, 0, 1, 1, 0]
    best = [0, 1, 0, 0, 1, 0]
    worst = [1, 0, 0, 1, 0, 1]
    assert transfer.contrast_samples(labels, best, worst, count=2) == [0, 1]
    assert transfer.contrast_samples(labels, best, worst, count=5, per_class=(0, 1)) == \
        {0: [0, 5], 1: [1, 4]}


@needs_extra
def test_logistic_regression_and_xgboost_on_separable_data():
    x, y = _easy_images(80)
    flat = x.reshape(len(x), -1)[:, :20]
    lr = transfer.logistic_regression(flat[:60], y[:60], flat[60:], y[60:])
    assert lr["test_accuracy"] == 1.0 and lr["test_predictions"] == y[60:].tolist()
    xgb = transfer.xgboost_pixels(x[:60, :4, :4], y[:60], x[60:, :4, :4], y[60:], n_estimators=5)
    assert xgb["test_accuracy"] == 1.0


def test_transfer_study_declares_part3_and_reads_its_settings_when_run(tmp_path):
    """`transfer_study.declare` adds the options, the `standin` and `faces` experiments with
    their claims and figures; `settings` is read by a run, not when the script loads (so `--set`
    reaches it); without the user's data the face rows read NOT RUN."""
    from tfdl.harness import claims
    from tfdl.harness.experiment import Report
    from tfdl.training import transfer_study

    reads = []
    report = Report("toy_transfer", report_file="none.txt", title="Toy", profiles={"quick": {}})
    reported = dict.fromkeys(transfer.ROWS, 0.6)
    transfer_study.declare(
        report, reported=reported, quotes=dict.fromkeys(transfer.ROWS, "q"), reported_lr=0.001,
        lr_quote="q", tolerance=0.05, settings=lambda: reads.append(1) or {})
    assert list(report.experiments) == ["standin", "faces"] and not reads
    assert [flags for flags, _ in report.options] == [("--faces-dir",), ("--resnet18-weights",)]
    assert [needs for needs, _ in report.figures] == [("standin",), ("faces",)]
    assert {c.id for c in report.claims} >= {"standin.cache", "standin.best", "faces.finetune",
                                             "faces.lr"}
    record = report.run(profile="quick", only=["faces"], logdir=tmp_path)
    rows = [r for r in record["headlines"] if r["id"].startswith("faces.")]
    assert len(rows) == 6 and all(r["verdict"] == claims.NOT_RUN for r in rows)
    assert "--faces-dir, --resnet18-weights" in rows[0]["reproduced"]
