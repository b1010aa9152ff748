"""Training with preloaded tensors: one way to compile, feed, fit and evaluate.

Batches are gathered by index from tensors held in memory, so a step costs the
model's math and little else — batch size 1 runs at thousands of steps a second.
A run whose loss becomes NaN or infinite stops and is reported as diverged.
"""

import dataclasses
import math
import time

from tfdl.callbacks import BatchLoss, StepHistory, accuracy
from tfdl.callbacks.base import flush_all
from tfdl.data.tensors import as_tensor

import keras
import numpy as np
import tensorflow as tf

OPTIMIZERS = {"sgd": keras.optimizers.SGD, "adam": keras.optimizers.Adam,
              "rmsprop": keras.optimizers.RMSprop}


def compile_model(model, learning_rate, loss="sparse_categorical_crossentropy", optimizer="sgd",
                  metrics=(), **optimizer_kwargs):
    """Compiles `model` with a named optimizer and adds the per-step `batch_loss` metric.

    Args:
        model: a Keras model.
        learning_rate: the optimizer's learning rate.
        loss: a Keras loss or its name.
        optimizer: "sgd", "adam" or "rmsprop".
        metrics: extra Keras metrics, computed on every training batch. None by default:
            nothing reads Keras' running training accuracy (`fit` evaluates each split
            itself), and on small nets its per-step ops cost ~10% of a step.
        **optimizer_kwargs: passed to the optimizer (e.g. momentum).
    """
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {optimizer!r}; valid: {', '.join(OPTIMIZERS)}")
    model.compile(
        optimizer=OPTIMIZERS[optimizer](learning_rate=learning_rate, **optimizer_kwargs),
        loss=loss,
        metrics=[BatchLoss(loss), *metrics],
    )
    return model


def _no_autotune():
    # tf.data's autotuner competes with the training step for the cores: on 2 cores it made
    # whole epochs of report 000's batch-128 run (validation every step) ~1.6x slower at
    # random, and ~2x slower whenever one core was busy (benchmarks/epoch_times.py).
    options = tf.data.Options()
    options.autotune.enabled = False
    return options


_NO_AUTOTUNE = _no_autotune()


def batches(x, y, batch_size, seed=0, shuffle=True, drop_remainder=False, repeat=True):
    """An endless `tf.data.Dataset` of `(x, y)` batches drawn from in-memory arrays.

    Each pass over the data is a fresh permutation (when `shuffle`); batches never
    straddle two passes. With `batch_size >= len(x)` every step is the full set.
    With `repeat=False` the dataset is one pass (each new iterator reshuffles).
    """
    n = len(y)
    x, y = as_tensor(x), as_tensor(y)
    if batch_size >= n:
        full = tf.data.Dataset.from_tensors((x, y))
        return (full.repeat() if repeat else full).with_options(_NO_AUTOTUNE)
    indices = tf.data.Dataset.range(n)
    if shuffle:
        indices = indices.shuffle(n, seed=seed, reshuffle_each_iteration=True)
    dataset = indices.batch(batch_size, drop_remainder=drop_remainder)
    if repeat:
        dataset = dataset.repeat()
    # A gather from memory costs next to nothing: one batch prepared ahead is enough.
    dataset = dataset.map(lambda idx: (tf.gather(x, idx), tf.gather(y, idx)))
    return dataset.prefetch(1).with_options(_NO_AUTOTUNE)


def steps_per_epoch(n, batch_size, drop_remainder=False):
    if batch_size >= n:
        return 1
    return n // batch_size if drop_remainder else math.ceil(n / batch_size)


@dataclasses.dataclass
class TrainResult:
    """What a training run produced.

    Attributes:
        steps: optimizer steps taken.
        losses: training loss of every step (the batch's own loss).
        epoch_losses: mean training loss per epoch (epoch-based runs).
        diverged: the loss became NaN or infinite; training stopped there.
        wall_s: wall time of the fit.
    """

    steps: int
    losses: list
    epoch_losses: list
    diverged: bool
    wall_s: float


class _EpochLosses(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.values = []

    def on_epoch_end(self, epoch, logs=None):
        self.values.append(float(logs["loss"]))


def train(model, x, y, batch_size, steps=None, epochs=None, callbacks=(), seed=0, shuffle=True,
          drop_remainder=False, log_dir=None, label=None, steps_per_execution=1):
    """Trains a compiled model for a number of steps or of epochs.

    Args:
        model: a model compiled with `compile_model`.
        x, y: training arrays.
        batch_size: examples per step (>= len(x) means full batch).
        steps: total optimizer steps (step-based protocol), or
        epochs: passes over the data (epoch-based protocol); give exactly one.
        callbacks: extra Keras callbacks (validation, histograms, ...).
        seed: shuffling seed.
        shuffle: reshuffle every pass.
        drop_remainder: drop each pass's last partial batch.
        log_dir: TensorBoard run directory for the per-step training loss.
        label: prefix for progress lines on stderr; None is silent.
        steps_per_execution: optimizer steps run inside one compiled call (Keras'
            `compile(steps_per_execution=)`), or "epoch": one pass over the data per call
            (`epochs=` runs; with `steps=`, a pass or the whole run if shorter). Per-step
            Python overhead dominates small models (an MLP on 2 features runs ~160 steps/s
            at 1, thousands at 100). Every step's loss is still recorded. A `ValidateEvery`
            whose `every` is at most this evaluates inside the compiled call, at exactly the
            steps it would with 1 (see `ValidateEvery`); other `StepCallback`s fire at the
            first execution end at or after each multiple of their `every` (exact when
            `every` is a multiple of this, or once per epoch, as executions never cross an
            epoch's end). With `steps=` or "epoch" the batches are those of 1; an integer
            with `epochs=` keeps the first pass's batches, and later passes are other
            (seeded) permutations.

    Returns:
        A `TrainResult`.
    """
    if (steps is None) == (epochs is None):
        raise ValueError("give exactly one of steps= or epochs=")
    per_epoch = steps_per_epoch(len(y), batch_size, drop_remainder)
    if steps is not None:
        epochs, per_epoch = 1, steps
    total = epochs * per_epoch
    history = StepHistory(total, log_dir=log_dir, log_every=max(1, total // 2000), label=label)
    epoch_losses = _EpochLosses()
    if steps_per_execution == "epoch":
        steps_per_execution = min(per_epoch, steps_per_epoch(len(y), batch_size, drop_remainder))
    elif not (isinstance(steps_per_execution, int) and steps_per_execution >= 1):
        raise ValueError("steps_per_execution must be >= 1 or 'epoch', "
                         f"got {steps_per_execution!r}")
    if model.steps_per_execution != steps_per_execution:
        model.steps_per_execution = steps_per_execution
        model.train_function = None  # rebuilt by fit for the new execution length
    # One endless iterator over seeded passes (the batches of steps_per_execution=1) when
    # executions tile the epochs exactly: one step each, or one pass each ("epoch").
    one_iterator = steps_per_execution == 1 or (steps is None
                                                and per_epoch == steps_per_execution)
    data = batches(x, y, batch_size, seed=seed, shuffle=shuffle, drop_remainder=drop_remainder,
                   repeat=one_iterator or steps is not None)
    fit_steps = per_epoch
    if not one_iterator:
        # Finite passes with a known length and no steps_per_epoch: Keras opens a fresh
        # iterator (a fresh permutation) per epoch and the last execution of an epoch
        # stops at the epoch's end instead of running into the next pass. A step budget
        # is one finite dataset of exactly those steps, in the order of 1.
        if steps is not None:
            data = data.take(steps)
        fit_steps = None
    in_step = []
    for callback in callbacks:
        if hasattr(callback, "after_step"):
            callback.in_step = 1 < steps_per_execution and callback.every <= steps_per_execution
            if callback.in_step:
                in_step.append(callback)
    start = time.perf_counter()
    try:
        if in_step:
            _evaluate_inside_steps(model, in_step)
        _mute_retracing_warning(model)
        model.fit(
            data,
            epochs=epochs,
            steps_per_epoch=fit_steps,
            callbacks=[history, epoch_losses, keras.callbacks.TerminateOnNaN(), *callbacks],
            shuffle=False,  # the dataset shuffles itself, seeded
            verbose=0,
        )
    finally:
        flush_all()  # TensorBoard points still pending, also when training raised
        if in_step:
            del model.train_step  # back to the class's
            model.train_function = None
    diverged = bool(history.losses) and not math.isfinite(history.losses[-1])
    return TrainResult(
        steps=len(history.losses),
        losses=history.losses,
        epoch_losses=epoch_losses.values,
        diverged=diverged,
        wall_s=time.perf_counter() - start,
    )


def _mute_retracing_warning(model):
    """Builds the model's train function now and mutes TensorFlow's "triggered tf.function
    retracing" warning for it: every model traces its own train function once by design,
    and a run of many short trainings (one model each) would otherwise warn."""
    model.make_train_function()
    cells = [c.cell_contents for c in getattr(model.train_function, "__closure__", None) or ()]
    for fn in cells + [getattr(c, "__wrapped__", None) for c in cells]:
        if isinstance(fn, tf.types.experimental.PolymorphicFunction):
            fn._omit_frequent_tracing_warning = True


def _evaluate_inside_steps(model, callbacks):
    """Makes `model`'s compiled train step call each callback's `before_step()` before the
    optimizer step and `after_step()` after it (graph code: the callbacks keep what they
    compute in variables and read it once per compiled call)."""
    train_step = type(model).train_step.__get__(model)

    def step_with_callbacks(data):
        for callback in callbacks:
            callback.before_step()
        logs = train_step(data)
        for callback in callbacks:
            callback.after_step()
        return logs

    model.train_step = step_with_callbacks
    model.train_function = None


def evaluate(model, x, y, loss=None, batch_size=10_000):
    """Loss and accuracy of `model` on `(x, y)`, computed in large compiled batches.

    Returns:
        `{"loss": float, "accuracy": float}`; values are None when the model's
        weights are not finite (a diverged run).
    """
    loss_fn = keras.losses.get(loss or model.loss)
    if not all(np.isfinite(w).all() for w in model.get_weights()):
        return {"loss": None, "accuracy": None}
    x, y = as_tensor(x), as_tensor(y)
    totals = np.zeros(2)
    for start in range(0, len(y), batch_size):
        xb, yb = x[start:start + batch_size], y[start:start + batch_size]
        pred = model(xb, training=False)
        totals += len(yb) * np.array([float(tf.reduce_mean(loss_fn(yb, pred))),
                                      float(accuracy(yb, pred))])
    loss_value, acc = totals / len(y)
    return {"loss": float(loss_value) if math.isfinite(loss_value) else None,
            "accuracy": float(acc)}


def predict(model, x, batch_size=32):
    """`model.predict(x)` without its `tf.data` pipeline: the same compiled predict function
    on the same batches (bit-identical outputs), one `predict_on_batch` per batch. Under op
    determinism Keras' `predict` makes TensorFlow log an "E0000 … use_unbounded_threadpool"
    line per call, which a run of many small predictions would print by the dozen."""
    return np.concatenate([model.predict_on_batch(x[start:start + batch_size])
                           for start in range(0, len(x), batch_size)])
