"""Transfer learning with ResNet-18: pretrain (cached), scratch / linear probe / fine-tune,
features for scikit-learn, and XGBoost on raw pixels.

Example:

    pretrained, info = pretrain(lambda: resnet18((32, 32, 3), 8, width=64), x8, y8,
                                learning_rate=1e-3, batch_size=64, epochs=2,
                                cache="logs/pretrained.weights.h5")
    model = transfer_model(pretrained, "finetune", classes=2)   # or "probe"; None -> scratch
    run = fit_and_score(model, data, learning_rate=1e-3, batch_size=32, epochs=1)
    logistic_regression(features(backbone(pretrained), x_tr), y_tr, features(..., x_te), y_te)

All training goes through `tfdl.training` (compiled steps on preloaded tensors).
"""

import time
from pathlib import Path

import keras
import numpy as np

from tfdl import training
from tfdl.models.resnet import backbone, with_head

MODES = ("scratch", "probe", "finetune")


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
                  label=None):
    """Compiles (softmax cross-entropy on logits), trains, and scores on val and test.

    Args:
        data: `{"train": (x, y), "val": (x, y), "test": (x, y)}`.

    Returns:
        `{"val_accuracy", "test_accuracy", "train_loss", "test_predictions", "wall_s"}`.
    """
    training.compile_model(model, learning_rate, loss=_logits_loss(), optimizer=optimizer)
    result = training.train(model, *data["train"], batch_size=batch_size, epochs=epochs,
                            seed=seed, label=label)
    val = training.evaluate(model, *data["val"], batch_size=256)
    test = training.evaluate(model, *data["test"], batch_size=256)
    return {"val_accuracy": val["accuracy"], "test_accuracy": test["accuracy"],
            "train_loss": result.epoch_losses[-1] if result.epoch_losses else None,
            "test_predictions": predict(model, data["test"][0]).tolist(),
            "wall_s": result.wall_s}


def predict(model, x, batch_size=256):
    """Predicted class ids."""
    return np.concatenate([np.argmax(model(x[i:i + batch_size], training=False), axis=-1)
                           for i in range(0, len(x), batch_size)])


def features(model, x, batch_size=256):
    """`model`'s outputs on `x` in inference mode, as a numpy array."""
    return np.concatenate([np.asarray(model(x[i:i + batch_size], training=False))
                           for i in range(0, len(x), batch_size)])


def lr_search(run, learning_rates):
    """Runs `run(lr) -> metrics` for each learning rate; picks the best `val_accuracy`.

    Returns:
        (best learning rate, {str(lr): metrics}). Ties go to the first listed.
    """
    runs = {f"{lr:g}": run(lr) for lr in learning_rates}
    best = max(learning_rates, key=lambda lr: runs[f"{lr:g}"]["val_accuracy"])
    return best, runs


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
