"""Train one configuration and record it, in the one shape every reproduction records.

    run = training.fit(model, splits, batch_size=100, epochs=40, seed=ctx.seed,
                       curves=("val",), curve_every="epoch", run_dir=ctx.run_dir("lr_0.01"))
    run["final"]["test"]["accuracy"]      # after training, on the whole split
    run["curves"]["val"]["loss"][-1]      # curves: {"step", "loss", "accuracy"} per split
    run["train"]["loss"]                  # each step's own training loss (downsampled)

A run's record:
    final:      {split: {"loss", "accuracy"}} after training (None values if it diverged)
    curves:     {split: {"step", "loss", "accuracy"}}, evaluated every `curve_every` steps and
                at step 0 (for a classifier; a regressor's curves have no accuracy)
    train:      {"step", "loss"}: every step's training loss, downsampled to `train_points`
    epoch_loss: the running mean of the training loss over each epoch (epoch-based runs)
    steps, diverged, wall_s, loss_noise (`stats.step_noise` of the step losses)
"""

from tfdl import callbacks as cb
from tfdl.analysis import stats
from tfdl.training.loop import evaluate, steps_per_epoch, train


def split(splits, name):
    """`(x, y)` of split `name` from a `Splits` (attributes) or a `{name: (x, y)}` dict."""
    return splits[name] if isinstance(splits, dict) else getattr(splits, name)


def fit(model, splits, *, batch_size, steps=None, epochs=None, seed=0, shuffle=True,
        curves=(), curve_every="epoch", curve_loss=None, final=("train", "test"),
        final_loss=None, callbacks=(), steps_per_execution=1, drop_remainder=False, run_dir=None,
        label=None, train_points=500, jit_compile=False):
    """Trains a compiled `model` on the train split and returns its record (module docstring).

    Args:
        model: a model compiled with `training.compile_model`.
        splits: a `Splits` or `{name: (x, y)}` with at least "train".
        batch_size, steps, epochs, seed, shuffle, steps_per_execution, drop_remainder,
            jit_compile: as `training.train`.
        curves: splits evaluated during training (`ValidateEvery`, TensorBoard run `name`).
        curve_every: steps between curve points, or "epoch" (one pass over the train split).
        curve_loss: loss of the curves (default: the model's).
        final: splits evaluated after training.
        final_loss: loss of the final evaluations (default: the model's).
        callbacks: more Keras callbacks.
        run_dir: TensorBoard run directory (training loss and curves).
        label: progress-line prefix; None is silent.
        train_points: points kept of the per-step training loss.
    """
    x, y = split(splits, "train")
    every = (steps_per_epoch(len(y), batch_size, drop_remainder) if curve_every == "epoch"
             else curve_every)
    loss = curve_loss or model.loss
    validators = {name: cb.ValidateEvery(*split(splits, name), loss, every=every,
                                         log_dir=run_dir, name=name) for name in curves}
    result = train(model, x, y, batch_size=batch_size, steps=steps, epochs=epochs, seed=seed,
                   shuffle=shuffle, callbacks=[*validators.values(), *callbacks],
                   log_dir=run_dir, label=label, steps_per_execution=steps_per_execution,
                   drop_remainder=drop_remainder, jit_compile=jit_compile)
    train_steps, train_losses = (stats.downsample(result.losses, points=train_points)
                                 if result.losses else ([], []))
    return {
        "final": {name: evaluate(model, *split(splits, name), loss=final_loss) for name in final},
        "curves": {name: {key: list(values) for key, values in v.history.items()}
                   for name, v in validators.items()},
        "train": {"step": train_steps, "loss": train_losses},
        "epoch_loss": result.epoch_losses,
        "steps": result.steps,
        "diverged": result.diverged,
        "wall_s": result.wall_s,
        "loss_noise": stats.step_noise(result.losses),
    }
