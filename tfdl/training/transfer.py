"""Transfer learning with ResNet-18: pretrain (cached), scratch / linear probe / fine-tune,
features for scikit-learn, and XGBoost on raw pixels.

Example:

    pretrained, info = pretrain(lambda: resnet18((32, 32, 3), 8, width=64), x8, y8,
                                learning_rate=1e-3, batch_size=64, epochs=2,
                                cache="logs/pretrained.weights.h5")
    model = transfer_model(pretrained, "finetune", classes=2)   # or "probe"; None -> scratch
    run = fit_and_score(model, data, learning_rate=1e-3, batch_size=32, epochs=1)
    run["final"]["test"]["accuracy"]
    logistic_regression(features(backbone(pretrained), x_tr), y_tr, features(..., x_te), y_te)

The whole comparison (report 003's part 3: XGBoost on pixels, scratch / linear probe /
fine-tune with one lr chosen by search, logistic regression on the pretrained features), on
given data, on the course's faces with ImageNet weights, or on a CIFAR-10 stand-in:

    rows = transfer_rows(data, pixels, pretrained, build, learning_rates=[1e-2, 1e-3, 1e-4],
                         batch_size=32, epochs=1)
    rows["test_accuracy"]["finetune"], rows["chosen_lr"]
    faces_protocol("faces/", "resnet18_imagenet.npz", size=224, xgb_size=64, **settings)
    cifar_standin(load_cifar10(layout="image"), held_out=(3, 5), width=64, ..., **settings)

All training goes through `tfdl.training` (compiled steps on preloaded tensors; one run's
record is `training.fit`'s).
"""

import time
from pathlib import Path

from tfdl import training
from tfdl.data.cifar10 import CLASS_NAMES, held_out_task
from tfdl.data.errors import DataError
from tfdl.data.faces import load_faces
from tfdl.harness.fingerprint import code_fingerprint
from tfdl.models.resnet import (
    IMAGENET_MEAN,
    IMAGENET_STD,
    backbone,
    load_weights,
    resnet18,
    with_head,
)
from tfdl.training.restarts import Restarts

import keras
import numpy as np

MODES = ("scratch", "probe", "finetune")
ROWS = ("xgboost", "scratch", "probe", "logreg", "finetune")  # `transfer_rows`' five models


def channel_stats(x):
    """Per-channel mean and std of images `x` (N, H, W, C), for `normalize`."""
    return x.mean(axis=(0, 1, 2)), x.std(axis=(0, 1, 2))


def normalize(x, mean, std):
    return ((x - np.asarray(mean, np.float32)) / np.asarray(std, np.float32)).astype(np.float32)


def pretrain(build, x, y, learning_rate, batch_size, epochs, cache=None, seed=0,
             optimizer="adam", label=None):
    """Trains `build()` (a model with a logits head) on `(x, y)` with softmax cross-entropy,
    or loads its weights from `cache` when that file exists.

    Args:
        build: function returning a fresh (uncompiled) model.
        x, y: training images and integer labels.
        learning_rate, batch_size, epochs, optimizer: the training settings.
        cache: a `.weights.h5` path; written after training, read instead of training when
            it exists. Name it after the settings (see `cache_name`) so a change retrains.
        seed: shuffling seed.
        label: progress prefix.

    Returns:
        (model, info): info has `cached` (bool), `steps`, `wall_s`, `cpu_s` (process CPU
        seconds), `losses` (per step; empty when cached).
    """
    model = build()
    if cache is not None and Path(cache).is_file():
        model.load_weights(cache)
        return model, {"cached": True, "steps": 0, "wall_s": 0.0, "cpu_s": 0.0, "losses": []}
    training.compile_model(model, learning_rate, loss=_logits_loss(), optimizer=optimizer)
    cpu = time.process_time()
    result = training.train(model, x, y, batch_size=batch_size, epochs=epochs, seed=seed,
                            label=label)
    info = {"cached": False, "steps": result.steps, "wall_s": result.wall_s,
            "cpu_s": time.process_time() - cpu, "losses": result.losses}
    if cache is not None:
        Path(cache).parent.mkdir(parents=True, exist_ok=True)
        model.save_weights(cache)
    return model, info


def _logits_loss():
    # ResNet-18's head outputs logits (as torchvision's): the loss must take logits.
    return keras.losses.SparseCategoricalCrossentropy(from_logits=True)


def cache_name(prefix, **settings):
    """`prefix-k1=v1-k2=v2.weights.h5`: a cache file named after what produced it."""
    return "-".join([prefix, *(f"{k}={v}" for k, v in sorted(settings.items()))]) + ".weights.h5"


def transfer_model(pretrained, mode, classes, build):
    """A classifier for a new task on a ResNet-18 backbone.

    Args:
        pretrained: the pretrained model (its weights are copied, not shared); unused for
            "scratch".
        mode: "scratch" (fresh weights from `build()`, all trained), "probe" (pretrained
            backbone frozen, batch norm in inference mode; only the new head trains) or
            "finetune" (pretrained backbone and new head all trained).
        classes: outputs of the new head (logits).
        build: function returning a fresh model of `pretrained`'s architecture; the pretrained
            weights are copied into it (each transfer run starts from the same weights).
    """
    if mode not in MODES:
        raise ValueError(f"unknown mode {mode!r}; valid: {', '.join(MODES)}")
    source = build()
    if mode != "scratch":
        source.set_weights(pretrained.get_weights())
    features = backbone(source)
    if mode == "probe":
        features.trainable = False
    return with_head(features, classes, name=f"resnet18_{mode}")


def fit_and_score(model, data, learning_rate, batch_size, epochs, seed=0, optimizer="adam",
                  label=None, restarts=None):
    """Compiles (softmax cross-entropy on logits), trains, and scores on val and test.

    Args:
        data: `{"train": (x, y), "val": (x, y), "test": (x, y)}`.
        restarts: a dict shared by the runs of a search, or None. With it, a run trains the
            model compiled for the first run of `model`'s trainable set (kept there as a
            `Restarts`), started from `model`'s weights: the runs of one architecture trace
            their train function once instead of once each (~5 s each for a ResNet-18), and
            train exactly as `model` compiled anew would.

    Returns:
        `training.fit`'s record, its `final` on "val" and "test", plus `test_predictions`.
        The finals are evaluated 256 images at a time (fit's own evaluations take up to 10,000
        at once: too much memory for a ResNet-18 on 224x224 images).
    """
    key = (optimizer, _shapes(model.trainable_variables), _shapes(model.non_trainable_variables))
    if restarts is None or key not in restarts:
        training.compile_model(model, learning_rate, loss=_logits_loss(), optimizer=optimizer)
        if restarts is not None:
            restarts[key] = Restarts(model)
    else:
        model = restarts[key].start(weights=model.get_weights(), learning_rate=learning_rate)
    run = training.fit(model, data, batch_size=batch_size, epochs=epochs, seed=seed, final=(),
                       label=label)
    run["final"] = {name: training.evaluate(model, *data[name], batch_size=256)
                    for name in ("val", "test")}
    run["test_predictions"] = predict(model, data["test"][0]).tolist()
    return run


def _shapes(variables):
    return tuple(tuple(v.shape) for v in variables)


def predict(model, x, batch_size=256):
    """Predicted class ids."""
    return np.concatenate([np.argmax(model(x[i:i + batch_size], training=False), axis=-1)
                           for i in range(0, len(x), batch_size)])


def features(model, x, batch_size=256):
    """`model`'s outputs on `x` in inference mode, as a numpy array."""
    return np.concatenate([np.asarray(model(x[i:i + batch_size], training=False))
                           for i in range(0, len(x), batch_size)])


def lr_search(run, learning_rates):
    """Runs `run(lr) -> record` for each learning rate; picks the best validation accuracy
    (`record["final"]["val"]["accuracy"]`).

    Returns:
        (best learning rate, {str(lr): record}). Ties go to the first listed.
    """
    runs = {f"{lr:g}": run(lr) for lr in learning_rates}
    best = max(learning_rates, key=lambda lr: _val_accuracy(runs[f"{lr:g}"]))
    return best, runs


def _val_accuracy(run):
    return run["final"]["val"]["accuracy"]


def transfer_rows(data, pixels, pretrained, build, learning_rates, batch_size, epochs, seed=0,
                  optimizer="adam", xgb_trees=100, log=None):
    """Five models on one binary task: XGBoost on raw pixels, ResNet-18 from scratch, the
    pretrained ResNet-18 with only a new head trained (linear probe) or all trained
    (fine-tune), and scikit-learn's logistic regression on the pretrained features.

    The three ResNet-18 rows share one learning rate: each mode is trained at every lr of
    `learning_rates` (`lr_search`), and the lr with the best validation accuracy averaged over
    the three modes gives their test accuracies (ties: the first listed).

    Args:
        data: `{"train", "val", "test": (x, y)}` of normalized images (labels 0 / 1).
        pixels: `{"train", "test": (x, y)}` for XGBoost (images are flattened).
        pretrained: the pretrained model; `build` returns a fresh one of its architecture
            (see `transfer_model`).
        batch_size, epochs, optimizer, seed: the ResNet-18 runs' training.
        xgb_trees: XGBoost's `n_estimators`.
        log: a function taking a progress line (e.g. a harness `ctx.log`), or None.

    Returns:
        `{"chosen_lr", "mean_val_accuracy": {str(lr): mean}, "lr_search": {mode: {"best_lr",
        "val_accuracy": {str(lr): accuracy}}}, "test_accuracy": {row: accuracy},
        "test_predictions": {row: [class id]}, "test_labels"}` (rows: `ROWS`).
    """
    log = log or (lambda line: None)
    out, searches = {}, {}
    restarts = {}  # scratch and fine-tune runs share one compiled model, probe runs another
    for mode in MODES:
        def run(lr, mode=mode):
            model = transfer_model(pretrained, mode, classes=2, build=build)
            return fit_and_score(model, data, lr, batch_size, epochs, seed=seed,
                                 optimizer=optimizer, label=f"{mode} lr {lr:g}",
                                 restarts=restarts)
        best, runs = lr_search(run, learning_rates)
        searches[mode] = {"best_lr": best, "runs": runs,
                          "val_accuracy": {k: _val_accuracy(r) for k, r in runs.items()}}
        log(f"{mode}: val accuracy by lr {searches[mode]['val_accuracy']}")
    mean_val = {f"{lr:g}": float(np.mean([searches[m]["val_accuracy"][f"{lr:g}"]
                                          for m in MODES])) for lr in learning_rates}
    chosen = max(learning_rates, key=lambda lr: mean_val[f"{lr:g}"])
    for mode in MODES:
        chosen_run = searches[mode]["runs"][f"{chosen:g}"]
        out[mode] = {"test_accuracy": chosen_run["final"]["test"]["accuracy"],
                     "test_predictions": chosen_run["test_predictions"]}
    backbone_model = backbone(pretrained)
    out["logreg"] = logistic_regression(
        features(backbone_model, data["train"][0]), data["train"][1],
        features(backbone_model, data["test"][0]), data["test"][1], seed=seed)
    out["xgboost"] = xgboost_pixels(*pixels["train"], *pixels["test"], seed=seed,
                                    n_estimators=xgb_trees)
    accuracy = {row: out[row]["test_accuracy"] for row in ROWS}
    log(f"chosen lr {chosen:g}; test accuracy {accuracy}")
    return {"chosen_lr": chosen, "mean_val_accuracy": mean_val,
            "lr_search": {m: {"best_lr": s["best_lr"], "val_accuracy": s["val_accuracy"]}
                          for m, s in searches.items()},
            "test_accuracy": accuracy,
            "test_predictions": {row: out[row]["test_predictions"] for row in ROWS},
            "test_labels": np.asarray(data["test"][1]).tolist()}


def pretrain_checked(build, x, y, x_val, y_val, learning_rate, batch_size, epochs, cache,
                     seed=0, optimizer="adam", label=None):
    """`pretrain` with a cache, then two checks: the cached weights reload (into a fresh
    `build()`) to the same features on the first 64 held-out images, and the held-out accuracy.

    Returns:
        (model, info): `pretrain`'s info without `losses`, plus `examples` (len(y)),
        `val_accuracy`, `cache` (the path, a string) and `cache_roundtrip` (bool).
    """
    pretrained, info = pretrain(build, x, y, learning_rate, batch_size, epochs, cache=cache,
                                seed=seed, optimizer=optimizer, label=label)
    reloaded = build()
    reloaded.load_weights(cache)
    probe_x = x_val[:64]
    roundtrip = bool(np.allclose(features(pretrained, probe_x), features(reloaded, probe_x),
                                 atol=1e-5))
    accuracy = float(np.mean(predict(pretrained, x_val) == y_val))
    return pretrained, {"cached": info["cached"], "steps": info["steps"],
                        "wall_s": info["wall_s"], "cpu_s": info["cpu_s"], "examples": len(y),
                        "val_accuracy": accuracy, "cache": str(cache),
                        "cache_roundtrip": roundtrip}


def contrast_images(rows, images, count=5, per_class=(0, 1)):
    """Test images the best of `transfer_rows`' models gets right and the worst gets wrong.

    Args:
        rows: `transfer_rows`' output.
        images: the test images (values in [0, 1]), in the order of its `test_labels`.

    Returns:
        `{"best", "worst"` (row names), `"indices": {class: [index]}, "images": {class:
        uint8 images as nested lists}}`, up to `count` per class.
    """
    accuracy = rows["test_accuracy"]
    best, worst = max(accuracy, key=accuracy.get), min(accuracy, key=accuracy.get)
    picks = contrast_samples(rows["test_labels"], rows["test_predictions"][best],
                             rows["test_predictions"][worst], count=count, per_class=per_class)
    return {"best": best, "worst": worst, "indices": picks,
            "images": {c: (np.clip(images[i], 0, 1) * 255).astype(np.uint8).tolist() if i else []
                       for c, i in picks.items()}}


def logistic_regression(train_features, train_labels, test_features, test_labels,
                        max_iter=1000, seed=0):
    """scikit-learn `LogisticRegression` on fixed features ("linear probing with sklearn").

    Returns:
        `{"test_accuracy", "test_predictions"}`.
    """
    from sklearn.linear_model import LogisticRegression

    clf = LogisticRegression(max_iter=max_iter, random_state=seed)
    clf.fit(train_features, train_labels)
    predicted = clf.predict(test_features)
    return {"test_accuracy": float(np.mean(predicted == test_labels)),
            "test_predictions": predicted.tolist()}


def xgboost_pixels(x_train, y_train, x_test, y_test, seed=0, **params):
    """An XGBoost classifier on raw pixels (images flattened).

    Args:
        params: `xgboost.XGBClassifier` settings (defaults: xgboost's, `n_jobs=2`).

    Returns:
        `{"test_accuracy", "test_predictions"}`.
    """
    import xgboost

    params = {"n_jobs": 2, "random_state": seed, **params}
    clf = xgboost.XGBClassifier(**params)
    clf.fit(x_train.reshape(len(x_train), -1), y_train)
    predicted = clf.predict(x_test.reshape(len(x_test), -1))
    return {"test_accuracy": float(np.mean(predicted == y_test)),
            "test_predictions": np.asarray(predicted).tolist()}


def contrast_samples(labels, best_predictions, worst_predictions, count=5, per_class=None):
    """Indices of test samples the best model gets right and the worst gets wrong.

    Args:
        per_class: if given, take up to `count` from each class id (the report shows real
            and fake faces separately); otherwise the first `count`.
    """
    labels = np.asarray(labels)
    mask = (np.asarray(best_predictions) == labels) & (np.asarray(worst_predictions) != labels)
    hits = np.flatnonzero(mask)
    if per_class is None:
        return hits[:count].tolist()
    return {int(c): hits[labels[hits] == c][:count].tolist() for c in per_class}


def faces_protocol(faces_dir, weights, size, xgb_size, log=None, **rows):
    """`transfer_rows` on the course's real-vs-fake faces (`tfdl.data.faces`, labels fake 0,
    real 1) from an ImageNet ResNet-18 (1000 classes).

    Args:
        faces_dir: the faces' folder, `{train,val,test}/{real,fake}/` images.
        weights: the ImageNet weights (`tfdl.models.resnet.load_weights`: .weights.h5 or .npz).
        size: the ResNet-18's input images, size x size, with ImageNet's normalization.
        xgb_size: XGBoost's images, xgb_size x xgb_size raw pixels.
        log: a function taking a progress line, or None.
        rows: `transfer_rows`' settings (learning_rates, batch_size, epochs, seed, optimizer,
            xgb_trees).

    Returns:
        `transfer_rows`' output plus `data` ("faces"), `source`, `sizes` {split: images},
        `samples` (`contrast_images`) and `class_names`.

    Raises:
        DataError: the faces are missing or malformed, or the weights cannot be loaded.
    """
    splits = load_faces(faces_dir, image_size=size)
    data = {k: (normalize(x, IMAGENET_MEAN, IMAGENET_STD), y) for k, (x, y) in
            (("train", splits.train), ("val", splits.val), ("test", splits.test))}
    small = load_faces(faces_dir, image_size=xgb_size)
    pixels = {"train": small.train, "test": small.test}

    def imagenet_resnet():
        return resnet18((size, size, 3), classes=1000)

    pretrained = imagenet_resnet()
    try:
        load_weights(pretrained, weights)
    except (OSError, KeyError, ValueError) as err:
        raise DataError(f"ResNet-18 weights {weights}: cannot load ({err})") from err
    out = transfer_rows(data, pixels, pretrained, imagenet_resnet, log=log, **rows)
    out.update(data="faces", source=splits.source, sizes={k: len(v[1]) for k, v in data.items()},
               samples=contrast_images(out, small.test[0]), class_names=["fake", "real"])
    return out


def cifar_standin(splits, held_out, width, pretrain_lr, pretrain_batch, pretrain_epochs,
                  cache_dir, pretrain_examples=None, pretrain_val_examples=None,
                  task_examples=None, seed=0, optimizer="adam", log=None, **rows):
    """An offline stand-in for ImageNet-to-binary-task transfer, on CIFAR-10: a 32x32 ResNet-18
    pretrained on the classes not in `held_out` ("ImageNet"), then `transfer_rows` on the two
    `held_out` classes (`cifar10.held_out_task`); every image is normalized with the
    pretraining images' channel mean and std.

    Args:
        splits: CIFAR-10 `Splits` of images (`load_cifar10(layout="image")`).
        held_out, pretrain_examples, pretrain_val_examples, task_examples: as `held_out_task`.
        width: the ResNet-18's first-stage channels (64: torchvision's).
        pretrain_lr, pretrain_batch, pretrain_epochs: pretraining (`pretrain_checked`, with
            `seed` and `optimizer`); the weights are cached in `cache_dir` under a name made of
            these settings, the held-out classes and a hash of the code (`cache_name`), and
            reused.
        seed, optimizer: also the transfer runs'.
        log: a function taking a progress line, or None.
        rows: `transfer_rows`' other settings (learning_rates, batch_size, epochs, xgb_trees).

    Returns:
        `transfer_rows`' output plus `data` ("stand-in"), `source`, `pretrain`
        (`pretrain_checked`'s info), `sizes` {split: images}, `samples` (`contrast_images`)
        and `class_names` (the `held_out` classes').
    """
    log = log or (lambda line: None)
    (x, y), (x_val, y_val), pixels = held_out_task(
        splits, held_out, pretrain_examples, pretrain_val_examples, task_examples)
    mean, std = channel_stats(x)
    data = {k: (normalize(images, mean, std), labels) for k, (images, labels) in pixels.items()}
    classes = splits.num_classes - len(held_out)

    def cifar_resnet(classes=classes):
        return resnet18((32, 32, 3), classes=classes, width=width)

    # Named after every pretraining setting and the code that trains it, so that a change of
    # either retrains instead of reusing weights from another protocol.
    cache = Path(cache_dir) / cache_name(
        f"resnet18_cifar{classes}", width=width, epochs=pretrain_epochs, n=len(y), seed=seed,
        lr=pretrain_lr, batch=pretrain_batch, optimizer=optimizer,
        held_out=".".join(map(str, held_out)), code=code_fingerprint(__file__))
    pretrained, info = pretrain_checked(
        cifar_resnet, normalize(x, mean, std), y, normalize(x_val, mean, std), y_val,
        pretrain_lr, pretrain_batch, pretrain_epochs, cache, seed=seed, optimizer=optimizer,
        label="pretrain")
    log(f"pretraining: {info['steps']} steps, {info['wall_s']:.0f}s wall, cached "
        f"{info['cached']}; {classes}-class accuracy {info['val_accuracy']:.3f}")
    out = transfer_rows(data, pixels, pretrained, cifar_resnet, seed=seed, optimizer=optimizer,
                        log=log, **rows)
    out.update(data="stand-in", source=splits.source, pretrain=info,
               sizes={k: len(v[1]) for k, v in pixels.items()},
               samples=contrast_images(out, pixels["test"][0]),
               class_names=[CLASS_NAMES[c] for c in held_out])
    return out
