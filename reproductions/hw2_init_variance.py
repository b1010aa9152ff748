"""
Title: Weight initialization, histograms, batch size, learning rate and early stopping on MNIST
Report: shared/reports/004_f9be44aaa6a4d347.txt (Sharif University, Deep Learning HW2, 2019)
Data: MNIST shipped in tfdl, 55,000 train / 5,000 validation / 10,000 test (TF1's split).

The report trains a small sigmoid network with plain SGD and claims:
  1. zero init fails; N(0, var) init is best at var = 0.1 and worsens as the variance grows;
  2. TensorBoard histograms show saturation of the sigmoid layer and vanishing gradients;
  3. batch 10 reaches 0.9277 test accuracy after 5,000 steps; loss noise falls as batches grow;
     batch 1000 is best for the step budgets used;
  4. batch 1000, 10,000 steps: lr 0.001 / 0.005 / 0.01 give 0.4176 / 0.7239 / 0.853, and
     accuracy rises with the learning rate;
  5. early stopping (lr 2, batch 1000, validation every 1,000 steps) picks ~20,000 steps;
     after 99,000 steps test accuracy is 0.932, train 0.9704.

Run:  python reproductions/hw2_init_variance.py            (full protocol)
      python reproductions/hw2_init_variance.py --profile quick --only initialization
      tensorboard --logdir logs/hw2_init_variance

Result: README.md ("Sharif HW2"), generated from results/hw2_init_variance.json and the
calibration search's results/calibration/hw2_init_variance.json.
"""

import sys

from tfdl import callbacks as cb
from tfdl import plots, training
from tfdl.analysis import stats
from tfdl.data import load_mnist, one_hot
from tfdl.harness import events
from tfdl.harness.calibration import Calibration
from tfdl.harness.claims import (
    PROTOCOL,
    Claim,
    at_least,
    at_most,
    between,
    equals,
    is_true,
    within,
    within_relative,
)
from tfdl.harness.experiment import Report, seed_metrics
from tfdl.models import losses, mlp, normal_init
from tfdl.training.runs import any_diverged, final, fmt, run_diverged

import numpy as np

# ## From the report
VARIANCES = [0.0, 0.1, 0.2, 0.3, 1.0, 2.0]  # 0.0 stands for zero init
BATCH_SIZES = [1, 10, 50, 100, 1000, 55_000]
BATCH_10_STEPS = 5_000  # the one step budget the batch-size part prints
LEARNING_RATES = [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0]
LR_BATCH, LR_STEPS = 1000, 10_000
ES_LR, ES_BATCH, ES_MAX_STEPS, ES_VALIDATE_EVERY = 2.0, 1000, 100_000, 1000

# ## Inferred (not in the report): the best of the declared search below, 36 settings scored on
# the lr part's six printed numbers (`tfdl calibrate hw2_init_variance`; the ranked table is
# results/calibration/hw2_init_variance.json and README "Sharif HW2"). Fixed before its 3-seed
# confirmation on every part, which reports and does not re-choose.
# One hidden sigmoid layer ("we used sigmoid in first hidden layer"; histogram tags layer_1 and
# layer_2 = output), a softmax head, plain SGD as in the TF1 tutorials of 2019, zero biases.
HIDDEN = [256]
# TF1-style squared error on the softmax output, tf.nn.l2_loss(y - y_hat) / batch.
LOSS = "half_squared_error"
REDUCTION = "mean"  # over the batch, as "/ batch" above
# The report's "variance" values are variances: weights ~ N(0, variance).
INIT_IS_STDDEV = False
# The init and batch-size parts print one run: batch 10, 5,000 steps -> 0.9277. Their lr is not
# printed: 0.5, the TF1 MNIST tutorial's, kept by hand after checking that run (lr 2 diverges
# there), so that claim is calibrated (by_hand below), not held out.
DEFAULT_LR = 0.5
DEFAULT_BATCH = 10
DEFAULT_INIT = 0.1  # the report's best init, kept for the later parts
# Early stopping: patience of 10 validations (10,000 steps) before calling the minimum.
ES_PATIENCE = 10
PROBE_EXAMPLES = 1000  # fixed batch for histograms, saturation and gradient norms
# The report's printed test and validation losses are cross-entropies (2.208 at 42% accuracy
# cannot be a squared error): curves and loss claims use cross-entropy, training uses LOSS.
REPORTED_LOSS = "categorical_crossentropy"

FULL = {
    "train_examples": None,  # all 55,000
    "init_steps": BATCH_10_STEPS,
    "histogram_every": 250,
    # Every batch size trains 5,000 steps (the printed budget) except the full batch,
    # capped at 500 steps: one full-batch step costs ~1 s on 2 CPU cores.
    "batch_steps": {1: 5000, 10: 5000, 50: 5000, 100: 5000, 1000: 5000, 55_000: 500},
    "lr_steps": LR_STEPS,
    "learning_rates": LEARNING_RATES,
    "es_max_steps": ES_MAX_STEPS,
    "es_validate_every": ES_VALIDATE_EVERY,
    "eval_every": 100,
}
PROFILES = {"full": FULL, "quick": {
    **FULL,
    "train_examples": 10_000,  # the "full batch" is then these 10,000
    "init_steps": 2000,
    "histogram_every": 500,
    "batch_steps": {1: 300, 10: 300, 50: 300, 100: 300, 1000: 300, 55_000: 30},
    "lr_steps": 200,
    "es_max_steps": 1000,
    "es_validate_every": 100,
}}

REPORT = Report("hw2_init_variance", report_file="004_f9be44aaa6a4d347.txt",
                title="Sharif University Deep Learning HW2", profiles=PROFILES)


def _data(ctx):
    splits = load_mnist(validation=5_000).subsample(train=ctx.config["train_examples"])
    return {name: (x, one_hot(y, 10)) for name, (x, y) in
            (("train", splits.train), ("val", splits.val), ("test", splits.test))}


def build(variance, learning_rate, seed):
    """The report's network: 784 - 256 sigmoid - 10 softmax, zero or normal init."""
    if variance == 0:
        init = "zeros"
    elif INIT_IS_STDDEV:
        init = normal_init(stddev=variance, seed=seed)
    else:
        init = normal_init(variance=variance, seed=seed)
    model = mlp(784, HIDDEN, 10, activation="sigmoid", kernel_initializer=init)
    return training.compile_model(model, learning_rate, loss=losses.get(LOSS, REDUCTION),
                                  optimizer="sgd")


# ## Experiments: one function per section of the report, returning what its claims read


@REPORT.experiment
def initialization(ctx):
    """Parts 1-3: zero vs N(0, var) init, with weight/bias/activation/gradient histograms."""
    data = _data(ctx)
    probe = (data["train"][0][:PROBE_EXAMPLES], data["train"][1][:PROBE_EXAMPLES])
    every = ctx.config["histogram_every"]
    out = {"variance": VARIANCES, "runs": {}}
    for variance in VARIANCES:
        name = "zero" if variance == 0 else f"var_{variance:g}"
        run_dir = ctx.run_dir(name)
        saturation = cb.ActivationSaturation(probe, losses.get(LOSS, REDUCTION), every=every)
        gradients = cb.GradientNorms(probe, losses.get(LOSS, REDUCTION), every=every)
        histograms = cb.HistogramLogger(run_dir, probe, losses.get(LOSS, REDUCTION),
                                         every=every)
        model = build(variance, DEFAULT_LR, ctx.seed)
        run = training.fit(model, data, batch_size=DEFAULT_BATCH, steps=ctx.config["init_steps"],
                           seed=ctx.seed, curves=("test",), curve_every=ctx.config["eval_every"],
                           curve_loss=REPORTED_LOSS,
                           callbacks=[saturation, gradients, histograms], run_dir=run_dir,
                           label=f"init {name}", train_points=500,
                           # 50 divides the curve's and the probes' intervals: each fires at
                           # exactly its steps, at the end of a 50-step compiled call
                           steps_per_execution=50)
        run["test_cross_entropy"] = training.evaluate(model, *data["test"],
                                                      loss=REPORTED_LOSS)["loss"]
        run["saturation"] = saturation.fractions["layer_1"]
        run["layer_1_gradient"] = gradients.mean_abs["layer_1"]
        run["histograms_complete"] = _histograms_complete(run_dir, model)
        ctx.log(f"{name}: test accuracy {fmt(final(run))}, "
                f"saturated {np.mean(run['saturation']):.2f}")
        out["runs"][name] = run
    out["steps"] = saturation.steps
    return out


def _histograms_complete(run_dir, model):
    """Every Dense layer has weights, biases, activations and gradients histograms."""
    found = events.tags(run_dir)
    wanted = {f"{layer.name}/{kind}" for layer in model.layers for kind in cb.histograms.KINDS}
    return wanted <= found


def _init_runs(m):
    return [m["runs"]["zero" if v == 0 else f"var_{v:g}"] for v in m["variance"]]


def _nonzero(m, value):
    """(variances, value(run) per variance) over the N(0, var) runs."""
    pairs = [(v, value(r)) for v, r in zip(m["variance"], _init_runs(m)) if v > 0]
    return [p[0] for p in pairs], [p[1] for p in pairs]


def _any_nonzero_diverged(m):
    # Comparisons over the N(0, var) runs need all of them: the report shows every one training.
    return any(run_diverged(r, "test") for v, r in zip(m["variance"], _init_runs(m)) if v > 0)


REPORT.claim(
    Claim("init.zero", "zero init fails to learn (test accuracy near chance)", "initialization",
          reported="fails", value=lambda m: final(m["runs"]["zero"]), check=at_most(0.2),
          quote="Actually zero initializing hinder the network as it cause symmetry in network",
          diverged=any_diverged("zero", split="test")),
    Claim("init.best", "best test accuracy at variance", "initialization", reported=0.1,
          value=lambda m: max(zip(*_nonzero(m, final)), key=lambda p: p[1])[0],
          check=equals(0.1), quote="best accuracy has reached when **variance=0.1**",
          diverged=_any_nonzero_diverged),
    Claim("init.worst", "worst test accuracy (N(0, var) runs) at variance", "initialization",
          reported=2.0,
          value=lambda m: min(zip(*_nonzero(m, final)), key=lambda p: p[1])[0],
          check=equals(2.0), quote="as we increase variance both test and train accuracy decreased",
          diverged=_any_nonzero_diverged),
    Claim("init.trend", "test accuracy falls as variance grows (Spearman)", "initialization",
          reported="falls", value=lambda m: stats.spearman(*_nonzero(m, final)),
          check=at_most(-0.8), quote="the less the variance the better their corresponding "
          "accuracy are", diverged=_any_nonzero_diverged),
    Claim("hist.complete", "weights/biases/activations/gradients histograms for every layer, "
          "every run", "initialization", reported="shown", kind=PROTOCOL,
          quote="former results is monitored by **tensorboard** include weights, activation output "
          ", bias and train and test loss",
          value=lambda m: all(r["histograms_complete"] for r in _init_runs(m)), check=is_true()),
    Claim("hist.saturation", "sigmoid layer's saturated fraction grows with variance (Spearman)",
          "initialization", reported="saturates",
          value=lambda m: stats.spearman(*_nonzero(m, lambda r: np.mean(r["saturation"]))),
          check=at_least(0.8),
          quote="initial weights are large negative or positive that saturates the input to "
          "sigmoid", diverged=_any_nonzero_diverged),
    Claim("hist.vanishing", "first-layer gradient magnitude shrinks with variance (Spearman)",
          "initialization", reported="vanishes",
          value=lambda m: stats.spearman(*_nonzero(m, lambda r: np.mean(r["layer_1_gradient"]))),
          check=at_most(-0.8),
          quote="Vanishing also occurred in figure18 and 20 for weight of layer1",
          diverged=_any_nonzero_diverged),
)


@REPORT.experiment
def batch_size(ctx):
    """Part 4: batch size 1 ... 55,000 (full batch) at a fixed learning rate."""
    data = _data(ctx)
    out = {"batch_size": BATCH_SIZES, "runs": {}}
    for batch in BATCH_SIZES:
        model = build(DEFAULT_INIT, DEFAULT_LR, ctx.seed)
        steps = ctx.config["batch_steps"][batch]
        run = training.fit(model, data, batch_size=min(batch, len(data["train"][1])),
                           steps=steps, seed=ctx.seed, curves=("test",),
                           curve_every=ctx.config["eval_every"], curve_loss=REPORTED_LOSS,
                           run_dir=ctx.run_dir(f"batch_{batch}"), label=f"batch {batch}",
                           train_points=500, steps_per_execution=100)  # test curve inside
        run["test_cross_entropy"] = training.evaluate(model, *data["test"],
                                                      loss=REPORTED_LOSS)["loss"]
        ctx.log(f"batch {batch}: test accuracy {fmt(final(run))}, "
                f"loss noise {run['loss_noise']:.4f}")
        out["runs"][str(batch)] = run
    return out


def _by_batch(m, value):
    return [value(m["runs"][str(b)]) for b in m["batch_size"]]


REPORT.claim(
    Claim("batch.b10", "batch 10, 5,000 steps: test accuracy", "batch_size", reported=0.9277,
          value=lambda m: final(m["runs"]["10"]), check=within(0.9277, 0.02),
          profiles=("full",), quote="test accuracy = 0.9277",
          diverged=any_diverged("10", split="test")),
    Claim("batch.noise", "loss noise falls as batch size grows (Spearman)", "batch_size",
          reported="falls",
          value=lambda m: stats.spearman(m["batch_size"], _by_batch(m, lambda r: r["loss_noise"])),
          check=at_most(-0.8), quote="as batch size increased ,loss fluctuate less",
          diverged=any_diverged(split="test")),
    # A diverged batch size ranks last (it is not the best); only batch 1000's own run decides.
    Claim("batch.best", "best test accuracy at batch size", "batch_size", reported=1000,
          value=lambda m: max(zip(m["batch_size"], _by_batch(m, final)),
                              key=lambda p: p[1] if p[1] is not None else -1)[0],
          check=equals(1000), profiles=("full",),
          quote="best accuracy achieved for batch size=1000",
          diverged=any_diverged("1000", split="test")),
)


@REPORT.experiment
def learning_rate(ctx):
    """Part 5: learning rate 0.001 ... 1 at batch 1000 for 10,000 steps."""
    data = _data(ctx)
    out = {"learning_rate": list(ctx.config["learning_rates"]), "runs": {}}
    for lr in ctx.config["learning_rates"]:
        model = build(DEFAULT_INIT, lr, ctx.seed)
        run = training.fit(model, data, batch_size=LR_BATCH, steps=ctx.config["lr_steps"],
                           seed=ctx.seed, curves=("test",), curve_every=ctx.config["eval_every"],
                           curve_loss=REPORTED_LOSS, steps_per_execution=1000,
                           run_dir=ctx.run_dir(f"lr_{lr:g}"), label=f"lr {lr:g}",
                           train_points=500)
        run["test_cross_entropy"] = training.evaluate(model, *data["test"],
                                                      loss=REPORTED_LOSS)["loss"]
        ctx.log(f"lr {lr:g}: test accuracy {fmt(final(run))}")
        out["runs"][f"{lr:g}"] = run
    return out


def _lr_accuracy(m, lr):
    return final(m["runs"][f"{lr:g}"])


# The report prints each run's test loss for its last steps; the last one (step 9,999) is the
# final loss.
REPORT.claim(
    *(Claim(f"lr.{lr:g}", f"lr {lr:g}, batch 1000, 10,000 steps: test accuracy", "learning_rate",
            reported=reported, value=lambda m, lr=lr: _lr_accuracy(m, lr),
            check=within(reported, 0.03),
            profiles=("full",), quote=f"test accuracy = {reported}",
            diverged=any_diverged(f"{lr:g}", split="test"))
      for lr, reported in ((0.001, 0.4176), (0.005, 0.7239), (0.01, 0.853))),
    *(Claim(f"lr.{lr:g}.loss", f"lr {lr:g}: final test loss (cross-entropy)", "learning_rate",
            reported=reported, value=lambda m, lr=lr: m["runs"][f"{lr:g}"]["test_cross_entropy"],
            check=within_relative(reported, 0.10), profiles=("full",),
            quote=f"test loss is {reported} step= 9999",
            diverged=any_diverged(f"{lr:g}", split="test"))
      for lr, reported in ((0.001, 2.2102287), (0.005, 1.1676729), (0.01, 0.6414))),
    # The report's lr 0.05 ... 1 runs train (figures 32-35) and so does its lr 2 run, so a
    # divergence in this range is not the report's picture, and has no accuracy to rank.
    Claim("lr.trend", "test accuracy rises with learning rate, 0.001 ... 1 (Spearman)",
          "learning_rate", reported="rises",
          value=lambda m: stats.spearman(m["learning_rate"],
                                         [_lr_accuracy(m, lr) for lr in m["learning_rate"]]),
          check=at_least(0.8), quote="higher learning rate leads to higher rate of convergence",
          diverged=any_diverged(split="test")),
)

# ## Calibration: what the report does not say, searched on the lr part's six printed numbers
# (the targets, frozen by the project); every other claim is held out. The values are what its
# text allows: the loss of a TF1 softmax net (TF1's l2_loss, Keras's mean squared error or
# cross-entropy), "variance" as variance or standard deviation, the hidden width, the reduction
# over the batch. The init and batch parts' lr (DEFAULT_LR) is not searched: no target reads it;
# it was kept by hand on batch.b10, which is therefore calibrated too.
# 3 x 2 x 3 x 2 = 36 settings, a grid within the 60-trial budget:
#     tfdl calibrate hw2_init_variance --jobs 2             (full protocol of the target lrs)
#     tfdl calibrate hw2_init_variance --confirm 3 --jobs 2 (its best 3, 3 seeds, every part)
LR_TARGETS = [0.001, 0.005, 0.01]
REPORT.calibrate(Calibration(
    experiment="learning_rate",
    targets=(*(f"lr.{lr:g}{part}" for part in ("", ".loss") for lr in LR_TARGETS), "batch.b10"),
    by_hand={"batch.b10": "DEFAULT_LR 0.5 kept after checking this run (lr 2 diverges)"},
    space={"LOSS": ["half_squared_error", "mean_squared_error", "categorical_crossentropy"],
           "INIT_IS_STDDEV": [True, False], "HIDDEN": [[128], [256], [512]],
           "REDUCTION": ["mean", "sum"]},
    protocol={"learning_rates": LR_TARGETS},
))
# Can any setting of that space reach the early-stopping numbers (a stop near step 20,000; test
# 0.932, train 0.9704, validation loss 0.3023)? A separate search whose answer is a finding for
# the README; it sets nothing. es.step's check is a range: one unit is 10,000 steps. Each trial
# is one 100,000-step run (~15-25 min on 2 cores), hence a budget of 12:
#     tfdl calibrate hw2_init_variance --search early_stopping
SEARCHES = {"early_stopping": Calibration(
    experiment="early_stopping", targets=("es.step", "es.test", "es.train", "es.val_loss"),
    space=REPORT.calibration.space, widths={"es.step": 10_000}, budget=12)}


@REPORT.experiment
def early_stopping(ctx):
    """Part 6: lr 2, batch 1000, validation every 1,000 steps; where would early stopping stop?"""
    data = _data(ctx)
    run_dir = ctx.run_dir("lr_2")
    validator = cb.ValidateEvery(*data["val"], REPORTED_LOSS, every=ctx.config["es_validate_every"],
                                 log_dir=run_dir, name="val")
    # Like the report, train the whole budget and read the stopping point off the curve.
    stopper = cb.StepEarlyStopping(validator, patience=ES_PATIENCE, stop_training=False)
    model = build(DEFAULT_INIT, ES_LR, ctx.seed)
    run = training.fit(model, data, batch_size=ES_BATCH, steps=ctx.config["es_max_steps"],
                       seed=ctx.seed, curves=("test",), curve_every=ctx.config["eval_every"],
                       curve_loss=REPORTED_LOSS, callbacks=[validator, stopper], run_dir=run_dir,
                       label="early stopping", train_points=500,
                       # the test curve inside each 100-step call; the validation (every
                       # 1,000 steps) at the end of the call that reaches it
                       steps_per_execution=100)
    run["test_cross_entropy"] = training.evaluate(model, *data["test"], loss=REPORTED_LOSS)["loss"]
    # The validation curve has its own interval, so its validator is a callback: recorded
    # beside fit's test curve, in the same shape.
    run["curves"]["val"] = {key: list(values) for key, values in validator.history.items()}
    run["stopping_step"] = stopper.best_step if stopper.stopped_step is not None else None
    run["best_validation_step"] = stopper.best_step
    ctx.log(f"stopping step {run['stopping_step']}, test accuracy {fmt(final(run))}")
    return run


REPORT.claim(
    Claim("es.step", "early stopping picks a step in [10k, 40k] (report ~20,000)", "early_stopping",
          reported=20_000, value=lambda m: m["stopping_step"], check=between(10_000, 40_000),
          profiles=("full",), quote="approximately **20000** learning steps is good choice"),
    Claim("es.test", "after 100,000 steps: test accuracy", "early_stopping", reported=0.932,
          value=final, check=within(0.932, 0.015), profiles=("full",),
          quote="test accuracy = 0.932"),
    Claim("es.train", "after 100,000 steps: train accuracy", "early_stopping", reported=0.9703818,
          value=lambda m: final(m, split="train"), check=within(0.9703818, 0.015),
          profiles=("full",),
          quote="train accuracy = 0.9703818"),
    Claim("es.val_loss", "after 100,000 steps: validation loss (cross-entropy)", "early_stopping",
          reported=0.3022921, value=lambda m: m["curves"]["val"]["loss"][-1],
          check=within_relative(0.3022921, 0.10), profiles=("full",),
          quote="validation loss is 0.3022921 step= 99000"),
)


# ## Figures: each names the experiments it reads


@REPORT.figure("initialization")
def initialization_figures(record, logdir):
    """Figures 3, 4, 9 and 18 of the report."""
    m = seed_metrics(record, "initialization")[0]
    runs = _init_runs(m)
    labels = ["zero" if v == 0 else f"var {v:g}" for v in m["variance"]]
    plots.metric_vs(logdir / "fig3_accuracy_vs_variance.png", labels,
                    {"test": [final(r) for r in runs],
                     "train": [final(r, split="train") for r in runs]},
                    "Accuracy vs initial weight variance", "initialization")
    plots.curves(logdir / "fig4_test_loss_by_init.png",
                 {lab: _steps_and_loss(r["curves"]["test"]) for lab, r in zip(labels, runs)},
                 "Test loss during training", ylabel="test loss (cross-entropy)", logy=True)
    plots.curves(logdir / "fig9_saturation_by_init.png",
                 {lab: (m["steps"], r["saturation"]) for lab, r in zip(labels, runs)},
                 "Saturated fraction of the sigmoid layer", ylabel="fraction saturated")
    plots.curves(logdir / "fig18_layer1_gradient_by_init.png",
                 {lab: (m["steps"], r["layer_1_gradient"]) for lab, r in zip(labels, runs)},
                 "First-layer gradient magnitude", ylabel="mean |dL/dW1|", logy=True)


def _steps_and_loss(curve):
    """A recorded `{"step", "loss", ...}` curve as the `(x, y)` plots take."""
    return curve["step"], curve["loss"]


@REPORT.figure("batch_size")
def batch_size_figure(record, logdir):
    """Figures 23-28 of the report."""
    m = seed_metrics(record, "batch_size")[0]
    plots.curve_grid(logdir / "fig23-28_train_loss_by_batch.png",
                     {f"batch size {b}": _steps_and_loss(m["runs"][str(b)]["train"])
                      for b in m["batch_size"]},
                     "Training loss (½ squared error) per step, by batch size")


@REPORT.figure("learning_rate")
def learning_rate_figure(record, logdir):
    """Figure 36 of the report."""
    m = seed_metrics(record, "learning_rate")[0]
    plots.curves(logdir / "fig36_test_loss_by_lr.png",
                 {f"lr {lr:g}": _steps_and_loss(m["runs"][f"{lr:g}"]["curves"]["test"])
                  for lr in m["learning_rate"]},
                 "Batch 1000: test loss for different learning rates",
                 ylabel="test loss (cross-entropy)", logy=True)


@REPORT.figure("early_stopping")
def early_stopping_figure(record, logdir):
    """Figures 37-40 of the report."""
    m = seed_metrics(record, "early_stopping")[0]
    series = {"validation": _steps_and_loss(m["curves"]["val"]),
              "test": _steps_and_loss(m["curves"]["test"])}
    plots.curves(logdir / "fig37_early_stopping.png", series,
                 "lr 2, batch 1000: validation loss every 1,000 steps",
                 ylabel="loss (cross-entropy)", logy=True)


if __name__ == "__main__":
    sys.exit(REPORT.main())
