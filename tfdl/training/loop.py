"""Training with preloaded tensors: one way to compile, feed, fit and evaluate.

Batches are gathered by index from tensors held in memory, inside the compiled call that
runs the steps, so a step costs the model's math and little else — batch size 1 runs at
thousands of steps a second.
A run whose loss becomes NaN or infinite stops and is reported as diverged.
"""

import concurrent.futures
import dataclasses
import math
import time

from tfdl.callbacks import BatchLoss, StepHistory, accuracy
from tfdl.callbacks.base import flush_all
from tfdl.data.shuffle import passes as shuffle_passes
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


def steps_per_epoch(n, batch_size, drop_remainder=False):
    if batch_size >= n:
        return 1
    return n // batch_size if drop_remainder else math.ceil(n / batch_size)


def _passes(n, batch_size, seed=0, shuffle=True):
    """The example order of each pass over `n` examples, endlessly (int64 arrays): those of
    `tf.data.Dataset.range(n).shuffle(n, seed, reshuffle_each_iteration=True)`, each a new
    permutation (`tfdl.data.shuffle`), the next one computed in a background thread while the
    caller trains on this one. Unshuffled passes and full batches (`batch_size >= n`) are in
    order.
    """
    if batch_size >= n or not shuffle:
        while True:
            yield np.arange(n)
    yield from _ahead(shuffle_passes(n, seed))


def _ahead(items):
    """`items` (an endless generator), each next one computed in a thread while the consumer
    works: a pass over 107,000 examples takes ~15 ms of CPU, which the compiled execution,
    holding no Python lock, leaves a core for. The first is computed here, in the caller's
    thread (it reads TensorFlow's global seed)."""
    with concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="tfdl-shuffle") as pool:
        item = next(items)
        while True:
            upcoming = pool.submit(next, items)
            yield item
            item = upcoming.result()


def _steps(n, batch_size, seed, shuffle, drop_remainder):
    """Every step's example indices in training order: each pass cut into batches (batches
    never straddle two passes; a pass's last partial batch is dropped with `drop_remainder`)."""
    for order in _passes(n, batch_size, seed, shuffle):
        for step in range(steps_per_epoch(n, batch_size, drop_remainder)):
            yield order[step * batch_size:(step + 1) * batch_size]


def _segments(indices):
    """Consecutive steps of one execution grouped by batch size: `[steps, batch]` tensors."""
    groups = []
    for index in indices:
        if groups and len(groups[-1][-1]) == len(index):
            groups[-1].append(index)
        else:
            groups.append([index])
    return [tf.constant(np.stack(group)) for group in groups]


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
          drop_remainder=False, log_dir=None, label=None, steps_per_execution=1,
          jit_compile=False):
    """Trains a compiled model for a number of steps or of epochs.

    Keras' `fit` loop (callbacks, per-epoch metric resets, `stop_training`), with the batches
    gathered inside the compiled function from `x` and `y` held as tensors: one compiled call
    runs `steps_per_execution` steps with no `tf.data` iterator per step.

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
        steps_per_execution: optimizer steps run inside one compiled call, or "epoch": one
            pass over the data per call (`epochs=` runs; with `steps=`, a pass or the whole
            run if shorter). Per-step Python overhead dominates small models (an MLP on 2
            features runs ~160 steps/s at 1, thousands at 100). Every step's loss is still
            recorded. A `ValidateEvery` whose `every` is at most this evaluates inside the
            compiled call, at exactly the steps it would with 1 (see `ValidateEvery`); other
            `StepCallback`s fire at the first execution end at or after each multiple of their
            `every` (exact when `every` is a multiple of this, or once per epoch, as executions
            never cross an epoch's end). The batches are those of 1, whatever this is.
        jit_compile: compile each execution with XLA (fused ops, faster for small nets; the
            float sums round in another order than the unfused graph's).

    Returns:
        A `TrainResult`.
    """
    if (steps is None) == (epochs is None):
        raise ValueError("give exactly one of steps= or epochs=")
    per_pass = steps_per_epoch(len(y), batch_size, drop_remainder)
    per_epoch = per_pass if steps is None else steps
    epochs = epochs if steps is None else 1
    total = epochs * per_epoch
    history = StepHistory(total, log_dir=log_dir, log_every=max(1, total // 2000), label=label)
    epoch_losses = _EpochLosses()
    if steps_per_execution == "epoch":
        steps_per_execution = min(per_epoch, per_pass)
    elif not (isinstance(steps_per_execution, int) and steps_per_execution >= 1):
        raise ValueError("steps_per_execution must be >= 1 or 'epoch', "
                         f"got {steps_per_execution!r}")
    order = _steps(len(y), batch_size, seed, shuffle, drop_remainder)
    in_step = []
    for callback in callbacks:
        if hasattr(callback, "after_step"):
            callback.in_step = 1 < steps_per_execution and callback.every <= steps_per_execution
            if callback.in_step:
                in_step.append(callback)
    x, y = as_tensor(x), as_tensor(y)
    if not model.optimizer.built:
        # Built inside the first trace, its variables would make TensorFlow trace the whole
        # execution twice (once to create them, once without); Keras' own fit builds it first.
        model.optimizer.build(model.trainable_variables)
    static = drop_remainder or batch_size >= len(y)
    run = _execution(model, x, y, min(batch_size, len(y)) if static else None, in_step,
                     jit_compile)
    callbacks = keras.callbacks.CallbackList(
        [history, epoch_losses, keras.callbacks.TerminateOnNaN(), *callbacks], model=model,
        epochs=epochs, steps=per_epoch, verbose=0)
    start = time.perf_counter()
    try:
        model.stop_training = False
        callbacks.on_train_begin()
        logs = {}
        for epoch in range(epochs):
            model.reset_metrics()
            callbacks.on_epoch_begin(epoch)
            for begin in range(0, per_epoch, steps_per_execution):
                end = min(begin + steps_per_execution, per_epoch)
                callbacks.on_train_batch_begin(begin)
                for segment in _segments([next(order) for _ in range(end - begin)]):
                    run(x, y, segment)
                logs = model.get_metrics_result()
                callbacks.on_train_batch_end(end - 1, logs)
                if model.stop_training:
                    break
            callbacks.on_epoch_end(epoch, logs)
            if model.stop_training:
                break
        model.optimizer.finalize_variable_values(model.trainable_weights)
        callbacks.on_train_end(logs)
    finally:
        flush_all()  # TensorBoard points still pending, also when training raised
    diverged = bool(history.losses) and not math.isfinite(history.losses[-1])
    return TrainResult(
        steps=len(history.losses),
        losses=history.losses,
        epoch_losses=epoch_losses.values,
        diverged=diverged,
        wall_s=time.perf_counter() - start,
    )


def _execution(model, x, y, batch, in_step, jit_compile):
    """The compiled function `run(x, y, indices)`: one optimizer step (Keras' `train_step`) per
    row of `indices` on the batch it gathers from `x` and `y`; each in-step callback's
    `before_step()` and `after_step()` around it (graph code: they keep what they compute in
    variables and read it once per call). `batch` is the traced batch dimension: a number
    where every batch has that size (`drop_remainder`, full batch), else None, as Keras traced
    a tf.data pipeline's batches (the traced shapes decide how TensorFlow rewrites the graph,
    so they keep the numbers of those runs bit for bit). Kept on the model and traced once
    per model while no callback runs inside it."""
    signature = tuple(tf.TensorSpec(shape, dtype) for shape, dtype in (
        ([None, *x.shape[1:]], x.dtype), ([None, *y.shape[1:]], y.dtype),
        ([None, batch], tf.int64)))
    key = (jit_compile, signature)
    cached = getattr(model, "_tfdl_execution", None)
    if not in_step and cached is not None and cached[0] == key:
        return cached[1]
    train_step = type(model).train_step.__get__(model)

    @tf.autograph.experimental.do_not_convert
    def run(x, y, indices):
        def step(i):
            for callback in in_step:
                callback.before_step()
            train_step((tf.gather(x, indices[i]), tf.gather(y, indices[i])))
            for callback in in_step:
                callback.after_step()
            return i + 1

        tf.while_loop(lambda i: i < tf.shape(indices)[0], step, [tf.constant(0)],
                      parallel_iterations=1)

    run = tf.function(run, input_signature=signature, jit_compile=jit_compile)
    if not in_step:
        model._tfdl_execution = (key, run)
    return run


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
