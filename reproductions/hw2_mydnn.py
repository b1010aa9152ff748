"""
Title: Technion 236606 HW2 ("mydnn"): batch size, regularization, architecture, regression
Report: shared/reports/000_38968ce822ce0973.txt (Technion 236606 HW2, Glanz & Weksler)
Data: MNIST shipped in tfdl, 50,000 / 10,000 / 10,000 (the first 10,000 training images are the
validation set); the regression sets of f(x1, x2) = x1·exp(−x1² − x2²) are drawn here.

The report trains MLPs in four experiment groups and claims:
  a. batch size 128 / 1024 / 10K / 20K for 4 / 10 / 30 / 30 epochs, validation on the whole
     validation set after every iteration: 1560 / 480 / 150 / 60 iterations, test accuracy
     0.9747 / 0.9691 / 0.9482 / 0.9261 (falls with batch size), run times 1280 / 400 / 270 / 270 s;
  b. a keras-tuner grid search of the L1 and L2 weight decay (best: 0.9716 / 0.9718 test accuracy),
     then training with the best decay per norm and without: 0.9749 / 0.9737 / 0.9741;
  c. a 10-row architecture table (weights count, run time, train / test loss and accuracy) —
     its row 6 weights count (1,342,578,688) is wrong: 784-512-512-10 has 668,672 weights;
  d. regression with 100 and 1,000 samples, 8 architectures, 200 epochs: best test MSE
     0.0068 (100 samples) and 0.0043 (1,000 samples; the report prints MSEs as negative scores).

Run:  python reproductions/hw2_mydnn.py                  (full protocol)
      python reproductions/hw2_mydnn.py --profile quick  (CI, minutes)
      tensorboard --logdir logs/hw2_mydnn

Result: README.md ("Technion 236606 HW2 (mydnn)"), generated from results/hw2_mydnn.json.
"""

import math
import sys

from tfdl import plots, training
from tfdl.analysis import stats
from tfdl.data import gaussian_bump, load_mnist, sample_function
from tfdl.data.synthetic import grid
from tfdl.harness.claims import (
    OWN,
    PROTOCOL,
    Check,
    Claim,
    at_least,
    at_most,
    equals,
    is_true,
    within,
)
from tfdl.harness.experiment import Report, seed_metrics
from tfdl.models import count_params, mlp
from tfdl.training.restarts import Restarts
from tfdl.training.runs import final, fmt
from tfdl.training.tuning import grid_search

import keras
import numpy as np

# ## From the report

BATCH_LABELS = ["128", "1024", "10K", "20K"]
BATCH_SIZES = [128, 1024, 10_000, 20_000]
BATCH_EPOCHS = [4, 10, 30, 30]
REPORTED_ITERATIONS = [1560, 480, 150, 60]
REPORTED_BATCH_TEST_ACC = [0.9747, 0.9691, 0.9482, 0.9261]
REPORTED_BATCH_RUNTIME_S = [1280, 400, 270, 270]
BATCH_QUOTES = ["128 4 1560 1280 sec 0.0840874 0.9754 0.0831195 0.9747",
                "1024 10 480 400 sec 0.0829664 0.978515 0.1041465 0.9691",
                "10K 30 150 270 sec 0.2006139 0.9425 0.1775361 0.9482",
                "20K 30 60 270 sec 0.2700259 0.9195 0.2555614 0.9261"]
REG_BATCH, REG_EPOCHS = 1024, 10
REPORTED_BEST_DECAY = {"l1": 5e-7, "l2": 5e-6, "none": 1e-4}
REPORTED_BEST_DECAY_ACC = {"l1": 0.9716, "l2": 0.9718, "none": 0.9717}
REPORTED_FINAL_ACC = {"l1": 0.9749, "l2": 0.9737, "none": 0.9741}
BEST_DECAY_QUOTES = {
    "l1": "The weight decay with the best accuracy is 5e-07, giving a loss of 0.101523 and "
          "accuracy of 0.9716",
    "l2": "The weight decay with the max accuracy is 5e-06 giving a loss of 0.10176 and "
          "accuracy of 0. 0.9718",
    "none": "The weight decay with the max accuracy = 0.0001, where the loss is "
            "0.1016795774770573, and accuracy = 0.9717",
}
FINAL_QUOTES = {"l1": "Loss = 0.08187, accuracy= 0.9749", "l2": "Loss =0.081762, accuracy= 0.9737",
                "none": "Loss = 0.08237 and accuracy= 0.9741"}
# Section c's table: hidden widths, weights, run time (s), train loss / acc, test loss / acc.
ARCHITECTURES = [
    ([64], 50_816, 22.428, 0.048452, 0.9892, 0.0856, 0.9729),
    ([128], 101_632, 36.619, 0.03774, 0.99218, 0.07867, 0.9766),
    ([256], 203_264, 68.513, 0.032775, 0.991210, 0.07744, 0.9752),
    ([512], 406_528, 126.412, 0.03132, 0.99414, 0.071216, 0.9782),
    ([64, 64], 54_912, 27.664, 0.06569, 0.98535, 0.097230, 0.9697),
    ([512, 512], 1_342_578_688, 229.146, 0.07086, 0.981445, 0.099679, 0.9706),
    ([128, 64], 109_184, 43.134, 0.053017, 0.98730, 0.092121, 0.9707),
    ([80, 512], 108_800, 60.797, 0.09717, 0.96679, 0.1155, 0.9637),
    ([100, 200], 100_400, 48.432, 0.051773, 0.9882, 0.09499, 0.9702),
    ([512, 80], 443_168, 136.785, 0.045381, 0.9892, 0.083578, 0.9749),
]
ARCH_QUOTES = [
    "1 2 64 50,816 22.428 0.048452 0.9892 0.0856 0.9729",
    "2 2 128 101,632 36.619 0.03774 0.99218 0.07867 0.9766",
    "3 2 256 203,264 68.513 0.032775 0.991210 0.07744 0.9752",
    "4 2 512 406,528 126.412 0.03132 0.99414 0.071216 0.9782",
    "5 3 [64, 64] 54,912 27.664 0.06569 0.98535 0.097230 0.9697",
    "6 3 [512, 512] 1,342,578,688 229.146 0.07086 0.981445 0.099679 0.9706",
    "7 3 [128, 64] 109,184 43.134 0.053017 0.98730 0.092121 0.9707",
    "8 3 [80, 512] 108,800 60.797 0.09717 0.96679 0.1155 0.9637",
    "9 3 100, 200 100,400 48.432 0.051773 0.9882 0.09499 0.9702",
    "10 3 512,80 443,168 136.785 0.045381 0.9892 0.083578 0.9749",
]
CORRECT_ROW6_WEIGHTS = 784 * 512 + 512 * 512 + 512 * 10  # 668,672
REGRESSION_WIDTHS = [[64], [128], [256], [400], [64, 64], [128, 64], [64, 128], [100, 200]]
# Section d's table, printed as negative scores; here as positive MSE: (train, test) per size.
REPORTED_REGRESSION_MSE = {
    100: [(0.00359728, 0.01040215), (0.01758234, 0.01108232), (0.01116733, 0.01198914),
          (0.00277952, 0.00914418), (0.00419778, 0.00678353), (0.00516225, 0.00743214),
          (0.00732223, 0.00769308), (0.01928708, 0.03556572)],
    1000: [(0.00806548, 0.00835385), (0.00676666, 0.00834461), (0.00708678, 0.00870745),
           (0.0049995, 0.00661973), (0.00682882, 0.00707502), (0.00367851, 0.00429218),
           (0.00682058, 0.00662957), (1.59984514, 1.39835986)],
}
REGRESSION_BATCH = {100: 10, 1000: 100}
REGRESSION_EPOCHS = 200

# ## Inferred (not in the report)

# Adam, lr 0.002, one setting for sections a-c ("same learning rate for all" batch sizes):
# a single calibration run of the four batch sizes put every test accuracy within 0.006 of
# the report's (lr 0.001 fell 0.008-0.013 short; the report's own optimizer is not given).
OPTIMIZER, LEARNING_RATE = "adam", 0.002
# Glorot-uniform init (Keras' default), seeded per run so every trial of a search starts alike.
# Section b's searched grid: {1, 5} × 10^k, k = -7..-1 — spans the report's best decays
# (5e-7, 5e-6) and reaches decays large enough to wreck the fit.
DECAY_GRID = [m * 10.0 ** k for k in range(-7, 0) for m in (1, 5)]
# "Too strong" decay, our bar: the report's text names no decay where accuracy drops (figures
# 5-6 carry no readable values), so we take the smallest grid decay whose penalty on the
# Glorot-initialized 784-128-10 kernels exceeds the initial cross-entropy ln 10 ≈ 2.3
# (Σ|w| ≈ 4,200, Σw² ≈ 239): L1 1e-3, L2 1e-2. Declared before the run: there, test accuracy
# is at least 0.01 (this script's accuracy tolerance) below the best searched decay's.
TOO_STRONG_DECAY = {"l1": 1e-3, "l2": 1e-2}
TOO_STRONG_DROP = 0.01
# Final runs of section b: 20 epochs — figures 8-11 plot iterations up to ~950 (= 20 × 48
# steps of 1024), beyond the 10 epochs (480 iterations) of the search.
REG_FINAL_EPOCHS = 20
# Section c: batch 1024 (the report's train accuracies are multiples of 1/1024, so they are
# measured on 1024-example batches) and 20 epochs, as the final runs of section b.
ARCH_BATCH, ARCH_EPOCHS = 1024, 20
# Section d: Adam lr 0.001 (Keras' default), L2 decay 1e-6 on every kernel (the report picked
# "minimal weight decay" from figures 12-13 but its grid is not legible), 1,000 uniform test
# points, MSE loss, linear output.
REGRESSION_OPTIMIZER, REGRESSION_LR, REGRESSION_L2 = "adam", 0.001, 1e-6
REGRESSION_TEST = 1_000
# Figures 12-13: the decay search on the report's 128 (ReLU) - 64 (sigmoid) L2 network. Its
# grid is not legible; ours spans 1e-6 ... 1e-1 (the quick profile runs every third value).
# The report's reading ("minimal weight decay gives minimal loss") is checked as a rank
# correlation of test MSE with the decay, declared before the run.
DECAY_SEARCH_HIDDEN = [128, 64]
REGRESSION_DECAYS = [1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1]
GRID_POINTS = 41

FULL = {
    "train": None, "val": None, "batch_train": None, "batch_sizes": BATCH_SIZES,
    "reg_batch": REG_BATCH, "reg_epochs": REG_EPOCHS, "reg_final_epochs": REG_FINAL_EPOCHS,
    "decays": DECAY_GRID, "none_decays": DECAY_GRID[::3],
    "arch_batch": ARCH_BATCH, "arch_epochs": ARCH_EPOCHS, "arch_rows": list(range(10)),
    "regression_rows": list(range(8)), "regression_epochs": REGRESSION_EPOCHS,
}
# Reported accuracies are checked by the full profile only; weights counts are exact in both.
PROFILES = {"full": FULL, "quick": {
    **FULL,
    # Section a on 1/2 of the training set with batch sizes halved: the iteration counts stay
    # exactly 1560 / 480 / 150 / 60 and the ordering must still show (with 1/4 and batch 32,
    # batch "128" and "1024" tied: 0.9542 vs 0.9548).
    "batch_train": 25_000, "batch_sizes": [64, 512, 5_000, 10_000],
    # The other sections on 1/8 of the training set, shorter.
    "train": 6_250, "val": 1_000,
    "reg_batch": 128, "reg_epochs": 5, "reg_final_epochs": 5,
    "decays": [1e-6, 5e-1], "none_decays": [1e-6, 5e-1],
    "arch_epochs": 1,
    "regression_rows": [0, 4], "regression_epochs": 40,
}}

REPORT = Report("hw2_mydnn", report_file="000_38968ce822ce0973.txt",
                title="Technion 236606 HW2 (mydnn)", profiles=PROFILES)


# ## Experiments: one function per section of the report, returning what its claims read
# Each trained configuration is recorded as `training.fit` returns it: "final" {split: {"loss",
# "accuracy"}}, "curves" {split: {"step", "loss", "accuracy"}}, "train" {"step", "loss"}, ...
# Every run executes one epoch per compiled call (`steps_per_execution="epoch"`), its curves
# evaluated inside the call: the same batches, steps and values as one step per call.

# `train_points` that keeps every step's training loss (figures 1-4 and 8-11 plot iterations).
EVERY_STEP = 1_000_000


def _data(ctx, train="train"):
    splits = load_mnist(validation=10_000)
    return splits.subsample(train=ctx.config[train], val=ctx.config["val"])


def build(ctx, hidden, l1=0.0, l2=0.0, regression=False):
    """The report's MLP, compiled, Glorot-initialized with the run's seed: a 784-...-10 ReLU /
    softmax classifier (sections a-c), or with `regression` a 2-...-1 regressor with a linear
    output (section d: ReLU, then sigmoid in a second hidden layer; MSE loss)."""
    init = keras.initializers.GlorotUniform(seed=ctx.seed)
    if regression:
        activation = ["relu"] if len(hidden) == 1 else ["relu", "sigmoid"]
        model = mlp(2, hidden, 1, activation=activation, output_activation=None,
                    kernel_initializer=init, l2=l2)
        return training.compile_model(model, REGRESSION_LR, loss="mse",
                                      optimizer=REGRESSION_OPTIMIZER)
    model = mlp(784, hidden, 10, activation="relu", output_activation="softmax",
                kernel_initializer=init, l1=l1, l2=l2)
    return training.compile_model(model, LEARNING_RATE, optimizer=OPTIMIZER)


# ### Section a: batch size

@REPORT.experiment
def batch_size(ctx):
    """a. batch size 128 / 1024 / 10K / 20K, validation after every iteration"""
    splits = _data(ctx, train="batch_train")
    runs = {}
    for label, batch, epochs in zip(BATCH_LABELS, ctx.config["batch_sizes"], BATCH_EPOCHS):
        run = training.fit(build(ctx, [128]), splits, batch_size=batch, epochs=epochs,
                           seed=ctx.seed, drop_remainder=True, curves=("val",), curve_every=1,
                           run_dir=ctx.run_dir(f"batch{label}"), label=f"batch {label}",
                           steps_per_execution="epoch",  # same batches, validation inside
                           train_points=EVERY_STEP)
        runs[label] = {**run, "batch": batch}
        ctx.log(f"batch {label}: {run['steps']} iterations, test accuracy "
                f"{fmt(final(run))}, {run['wall_s']:.0f}s")
    return {"runs": runs}


def _runtime_check(reported_s):
    return Check(f"≥ 20× faster (≤ {reported_s / 20:g} s)", lambda v: v <= reported_s / 20)


REPORT.claim(
    # Iterations = epochs × ⌊examples / batch⌋: arithmetic of the protocol.
    *[Claim(f"batch.iterations_{label}", f"batch {label}, {epochs} epochs: iterations",
            "batch_size", reported=n, value=lambda m, label=label: m["runs"][label]["steps"],
            check=equals(n), kind=PROTOCOL, quote=quote)
      for label, epochs, n, quote in zip(BATCH_LABELS, BATCH_EPOCHS, REPORTED_ITERATIONS,
                                         BATCH_QUOTES)],
    *[Claim(f"batch.test_acc_{label}", f"batch {label}: test accuracy", "batch_size",
            reported=acc,
            value=lambda m, label=label: final(m["runs"][label]),
            check=within(acc, 0.01), quote=quote, profiles=("full",))
      for label, acc, quote in zip(BATCH_LABELS, REPORTED_BATCH_TEST_ACC, BATCH_QUOTES)],
    Claim("batch.acc_falls", "test accuracy falls as the batch grows (128 > 1024 > 10K > 20K)",
          "batch_size", reported="falls",
          value=lambda m: all(final(m["runs"][a])
                              > final(m["runs"][b])
                              for a, b in zip(BATCH_LABELS, BATCH_LABELS[1:])),
          check=is_true(),
          quote="the more iterations of back propagation (i.e. using smaller batch sizes) "
                "results in longer run-time yet increased accuracy"),
    *[Claim(f"batch.runtime_{label}", f"performance: batch {label} run time with per-iteration "
            "validation (s)", "batch_size", reported=seconds,
            value=lambda m, label=label: m["runs"][label]["wall_s"],
            check=_runtime_check(seconds),
            quote=quote, profiles=("full",))
      for label, seconds, quote in zip(BATCH_LABELS, REPORTED_BATCH_RUNTIME_S, BATCH_QUOTES)],
)


# ### Section b: regularization

def _norm_kwargs(norm, decay):
    return {"l1": decay} if norm == "l1" else {"l2": decay} if norm == "l2" else {}


def _accuracy_at(search, decay):
    """Test accuracy of the searched trial at `decay` (ValueError: not searched)."""
    for value, trial in zip(search["decays"], search["trials"]):
        if math.isclose(value, decay, rel_tol=1e-9):
            return final(trial)
    raise ValueError(f"decay {decay:g} was not searched")


@REPORT.experiment
def regularization(ctx):
    """b. keras-tuner search of the L1 / L2 weight decay, then best decay vs none"""
    splits = _data(ctx)
    batch = ctx.config["reg_batch"]
    out = {"searches": {}, "runs": {}}
    for norm in ("l1", "l2", "none"):
        decays = ctx.config["none_decays"] if norm == "none" else ctx.config["decays"]
        # One model per norm, restarted for each trial (one trace for the whole search).
        restarts = Restarts(build(ctx, [128], **_norm_kwargs(norm, decays[0])))

        # A keras-tuner trial (fit cannot run inside one): trained by `training.train`, scored
        # in fit's shape; "val_accuracy" is the tuner's objective.
        def trial(decay, restarts=restarts):
            model = restarts.start(decay)
            training.train(model, *splits.train, batch_size=batch, epochs=ctx.config["reg_epochs"],
                           seed=ctx.seed, drop_remainder=True, steps_per_execution="epoch")
            scores = {name: training.evaluate(model, *training.split(splits, name))
                      for name in ("val", "train", "test")}
            return {"val_accuracy": scores["val"]["accuracy"], "final": scores}

        # The report also "searched" the decay with no regularizer: the decay is then unused,
        # so the search varies nothing (here, with a seeded init, every trial is identical).
        search = grid_search(trial, "weight_decay", decays, directory=ctx.run_dir("tuner"),
                             project_name=f"decay_{norm}")
        accuracies = [final(m) for m in search.metrics]
        out["searches"][norm] = {
            "decays": decays, "best_decay": search.best_value,
            "trials": [{"final": m["final"]} for m in search.metrics],
            "best": {"final": search.best_metrics["final"]},
            "largest_decay_test_accuracy": accuracies[-1],
            "spread": max(accuracies) - min(accuracies),
        }
        ctx.log(f"{norm}: best decay {search.best_value:g}, test accuracy "
                f"{fmt(final(search.best_metrics))}")

    for norm in ("l1", "l2", "none"):
        decay = out["searches"][norm]["best_decay"] if norm != "none" else 0.0
        run = training.fit(build(ctx, [128], **_norm_kwargs(norm, decay)), splits,
                           batch_size=batch, epochs=ctx.config["reg_final_epochs"], seed=ctx.seed,
                           drop_remainder=True, curves=("val",), curve_every=1,
                           run_dir=ctx.run_dir(f"final_{norm}"), label=f"final {norm}",
                           train_points=EVERY_STEP, steps_per_execution="epoch")
        out["runs"][norm] = {**run, "decay": decay}
        ctx.log(f"final {norm}: test accuracy {fmt(final(run))}")
    return out


REPORT.claim(
    *[Claim(f"reg.best_decay_acc_{norm}",
            f"{norm.upper()}: test accuracy at the best searched decay (report's best "
            f"{REPORTED_BEST_DECAY[norm]:g})", "regularization",
            reported=REPORTED_BEST_DECAY_ACC[norm],
            value=lambda m, norm=norm: final(m["searches"][norm]["best"]),
            check=within(REPORTED_BEST_DECAY_ACC[norm], 0.01), quote=BEST_DECAY_QUOTES[norm],
            profiles=("full",))
      for norm in ("l1", "l2")],
    *[Claim(f"reg.final_acc_{norm}",
            f"final training with {norm if norm == 'none' else 'best ' + norm.upper()}: "
            "test accuracy", "regularization", reported=REPORTED_FINAL_ACC[norm],
            value=lambda m, norm=norm: final(m["runs"][norm]),
            check=within(REPORTED_FINAL_ACC[norm], 0.01), quote=FINAL_QUOTES[norm],
            profiles=("full",))
      for norm in ("l1", "l2", "none")],
    *[Claim(f"reg.too_strong_{norm}", f"{norm.upper()}: best decay's test accuracy minus that "
            f"at decay {TOO_STRONG_DECAY[norm]:g} (penalty at init > ln 10)", "regularization",
            reported="no decay named", kind=OWN,
            value=lambda m, norm=norm: (final(m["searches"][norm]["best"])
                                        - _accuracy_at(m["searches"][norm],
                                                       TOO_STRONG_DECAY[norm])),
            check=at_least(TOO_STRONG_DROP), profiles=("full",))
      for norm in ("l1", "l2")],
    # Zero by construction (no penalty reads the decay; seeded init): a protocol check.
    Claim("reg.none_search_noop", "search without regularizer: spread of test accuracy over "
          "the decays", "regularization", reported="best 1e-4 → 0.9717", kind=PROTOCOL,
          quote=BEST_DECAY_QUOTES["none"],
          value=lambda m: m["searches"]["none"]["spread"], check=at_most(0.0),
          note="the report's weight-decay search without regularization (figure 7) is a no-op: "
               "no penalty uses the decay, so its curve is run-to-run noise; with a seeded init "
               "every decay gives the same network. The L1/L2 searches vary the decay of a "
               "penalty on every kernel over the grid {1,5}×10^k, k=-7..-1 (quick: 1e-6 and 0.5)."),
)


# ### Section c: architecture

@REPORT.experiment
def architecture(ctx):
    """c. the 10-row architecture table: weights, run time, train / test loss and accuracy"""
    splits = _data(ctx)
    rows = {}
    for index in ctx.config["arch_rows"]:
        hidden = ARCHITECTURES[index][0]
        model = build(ctx, hidden)
        run = training.fit(model, splits, batch_size=ctx.config["arch_batch"],
                           epochs=ctx.config["arch_epochs"], seed=ctx.seed, drop_remainder=True,
                           run_dir=ctx.run_dir(f"row{index + 1}"), steps_per_execution="epoch")
        weights = count_params(model, weights_only=True)
        rows[str(index + 1)] = {**run, "hidden": hidden, "weights": weights}
        ctx.log(f"row {index + 1} {hidden}: {weights:,} weights, test accuracy "
                f"{fmt(final(run))}, {run['wall_s']:.0f}s")
    return {"rows": rows}


_ROW6_NOTE = ("the report prints 1,342,578,688 weights for 784-512-512-10 = 784·512 + "
              "512·512·512·10 (a product where a sum belongs); the count is 784·512 + 512·512 + "
              "512·10 = 668,672 — the report's number is wrong.")
REPORT.claim(
    # Weight counts of the nets we build: protocol. Row 6's printed count is wrong.
    *[Claim(f"arch.weights_row{i}", f"row {i} {hidden}: weights (no biases)", "architecture",
            reported=weights, kind=PROTOCOL, quote=quote,
            value=lambda m, i=i: m["rows"][str(i)]["weights"],
            check=equals(CORRECT_ROW6_WEIGHTS if i == 6 else weights),
            corrected=CORRECT_ROW6_WEIGHTS if i == 6 else None,
            note=_ROW6_NOTE if i == 6 else "")
      for i, ((hidden, weights, *_), quote) in enumerate(zip(ARCHITECTURES, ARCH_QUOTES),
                                                         start=1)],
    *[Claim(f"arch.test_acc_row{i}", f"row {i} {hidden}: test accuracy", "architecture",
            reported=row[-1],
            value=lambda m, i=i: final(m["rows"][str(i)]),
            check=within(row[-1], 0.01), quote=quote, profiles=("full",))
      for i, ((hidden, *row), quote) in enumerate(zip(ARCHITECTURES, ARCH_QUOTES), start=1)],
)


# ### Section d: regression

@REPORT.experiment
def regression(ctx):
    """d. regression of x1·exp(−x1²−x2²) with 100 and 1,000 samples, 8 architectures"""
    data = sample_function(gaussian_bump, train=max(REGRESSION_BATCH), test=REGRESSION_TEST,
                           seed=ctx.seed)
    x1, x2, grid_x = grid(points=GRID_POINTS)
    epochs = ctx.config["regression_epochs"]
    out = {"rows": {}, "best": {}, "grid_truth": gaussian_bump(grid_x).tolist()}
    for n, batch in REGRESSION_BATCH.items():
        splits = data.subsample(train=n)
        fits = {}
        for index in ctx.config["regression_rows"]:
            hidden = REGRESSION_WIDTHS[index]
            model = build(ctx, hidden, l2=REGRESSION_L2, regression=True)
            # Losses are the model's MSE (without the L2 penalty); the test curve every epoch.
            run = training.fit(model, splits, batch_size=batch, epochs=epochs, seed=ctx.seed,
                               curves=("test",), run_dir=ctx.run_dir(f"n{n}_row{index + 1}"),
                               steps_per_execution="epoch")
            fits[str(index + 1)] = {
                **run, "hidden": hidden,
                "grid_prediction": training.predict(model, grid_x).ravel().tolist(),
            }
            ctx.log(f"{n} samples, row {index + 1} {hidden}: test MSE "
                    f"{fmt(final(run, 'loss'), '.5f')}")
        best = min(fits, key=lambda k: final(fits[k], "loss"))
        out["best"][str(n)] = {"row": best, "test_mse": final(fits[best], "loss")}
        for key, fit in fits.items():
            if key != best:
                del fit["grid_prediction"]
        out["rows"][str(n)] = fits
    out["samples"] = {"x": data.train[0].tolist(), "y": data.train[1].ravel().tolist()}
    return out


@REPORT.experiment
def regression_decay(ctx):
    """d. figures 12-13: test MSE vs L2 weight decay, 128-64 network, 100 and 1,000 samples"""
    data = sample_function(gaussian_bump, train=max(REGRESSION_BATCH), test=REGRESSION_TEST,
                           seed=ctx.seed)
    decays = REGRESSION_DECAYS if ctx.profile == "full" else REGRESSION_DECAYS[::3]
    out = {"decays": decays, "runs": {}}
    for n, batch in REGRESSION_BATCH.items():
        splits = data.subsample(train=n)
        runs = []
        for decay in decays:
            run = training.fit(build(ctx, DECAY_SEARCH_HIDDEN, l2=decay, regression=True), splits,
                               batch_size=batch, epochs=ctx.config["regression_epochs"],
                               seed=ctx.seed, run_dir=ctx.run_dir(f"n{n}_decay{decay:g}"),
                               steps_per_execution="epoch")
            runs.append({**run, "decay": decay})
            ctx.log(f"{n} samples, L2 decay {decay:g}: test MSE "
                    f"{fmt(final(run, 'loss'), '.5f')}")
        out["runs"][str(n)] = runs
    return out


def _mse(runs, split):
    """MSE on `split` after training, one per run."""
    return [final(run, "loss", split) for run in runs]


REPORT.claim(
    *(Claim(f"regr.decay_{n}", f"{n} samples, 128-64 net: test MSE rises with the L2 decay "
            "(Spearman; the report chose the minimal decay)", "regression_decay",
            reported="minimal decay best", quote=quote,
            value=lambda m, n=n: stats.spearman(m["decays"], _mse(m["runs"][str(n)], "test")),
            check=at_least(0.8), profiles=("full",))
      for n, quote in zip(REGRESSION_BATCH, (
          "Seeing the above results, we chose to work weight minimal weight decay factor",
          "Here also we chose to work with minimal weight decay to obtain minimal loss"))),
)


_MSE_NOTE = ("the report prints MSE with a minus sign (a score to maximize); shown here as "
             "positive MSE. For scale: predicting 0 everywhere gives MSE ≈ 0.0245, so the "
             "report's row-8 values for 1,000 samples (1.6 / 1.4) are a failed fit.")


def _mse_bound(reported, limit):
    """`check` and `better` of a best MSE: PASS up to `limit`; BETTER below the report's number
    by the same factor (limit / reported) the upper bound allows above it. A factor, not a
    difference: for 1,000 samples the bound is 2.1× the report's number, so a lower edge of
    reported minus the same difference would be negative."""
    floor = reported * reported / limit
    return {"check": Check(f"≤ {limit:g} (< {floor:.3g}: better)", lambda v: v <= limit),
            "better": Check(f"< {floor:.3g}", lambda v: v < floor)}


REPORT.claim(
    Claim("regr.more_data_better", "best test MSE: 1,000 samples below 100 samples",
          "regression", reported="1,000 more accurate",
          value=lambda m: m["best"]["1000"]["test_mse"] < m["best"]["100"]["test_mse"],
          check=is_true(),
          quote="Naturally, the 1000-sample test set derived a more accurate fit"),
    Claim("regr.best_mse_100", "100 samples: best test MSE over the architectures", "regression",
          reported=0.00678353, value=lambda m: m["best"]["100"]["test_mse"],
          **_mse_bound(0.00678353, 0.012), note=_MSE_NOTE, profiles=("full",),
          quote="5 3 [64, 64] -0.00419778 -0.00678353 -0.00682882 -0.00707502"),
    Claim("regr.best_mse_1000", "1,000 samples: best test MSE over the architectures",
          "regression", reported=0.00429218, value=lambda m: m["best"]["1000"]["test_mse"],
          **_mse_bound(0.00429218, 0.009), profiles=("full",),
          quote="6 3 [128, 64] -0.00516225 -0.00743214 -0.00367851 -0.00429218"),
)


# ## Figures: each names the experiments it reads

@REPORT.figure("batch_size")
def batch_figures(record, logdir):
    """Figures 1-4: validation loss and accuracy per iteration, per batch size."""
    m = seed_metrics(record, "batch_size")[0]
    for number, label in enumerate(BATCH_LABELS, start=1):
        run = m["runs"][label]
        train, val = run["train"], run["curves"]["val"]
        plots.curves(logdir / f"fig{number:02d}_batch{label}_loss.png",
                     {"train (batch)": (train["step"], train["loss"]),
                      "validation": (val["step"], val["loss"])},
                     f"Loss vs iterations, batch {label}", xlabel="iteration", ylabel="loss")
        plots.curves(logdir / f"fig{number:02d}_batch{label}_accuracy.png",
                     {"validation": (val["step"], val["accuracy"])},
                     f"Accuracy vs iterations, batch {label}", xlabel="iteration",
                     ylabel="accuracy")


@REPORT.figure("regularization")
def regularization_figures(record, logdir):
    """Figures 5-7 (accuracy and loss vs decay) and 8-11 (final runs per iteration)."""
    m = seed_metrics(record, "regularization")[0]
    for number, norm in zip((5, 6, 7), ("l1", "l2", "none")):
        s = m["searches"][norm]
        for metric in ("accuracy", "loss"):
            plots.metric_vs(logdir / f"fig{number:02d}_decay_{norm}_{metric}.png", s["decays"],
                            {f"test {metric}": [final(t, metric) for t in s["trials"]]},
                            f"Test {metric} vs weight decay ({norm})", xlabel="weight decay",
                            ylabel=metric, logx=True)
    for number, norm in zip((8, 10, 11), ("l1", "l2", "none")):
        run = m["runs"][norm]
        train, val = run["train"], run["curves"]["val"]
        plots.curves(logdir / f"fig{number:02d}_final_{norm}_loss.png",
                     {"train (batch)": (train["step"], train["loss"]),
                      "validation": (val["step"], val["loss"])},
                     f"Loss vs iterations, batch 1024, {norm} (decay {run['decay']:g})",
                     xlabel="iteration", ylabel="loss")
        plots.curves(logdir / f"fig{number:02d}_final_{norm}_accuracy.png",
                     {"validation": (val["step"], val["accuracy"])},
                     f"Validation accuracy vs iterations, {norm}", xlabel="iteration",
                     ylabel="accuracy")
    # Figure 9 zooms into figure 8's second half, where the training loss keeps falling
    # and the validation loss does not (the start of overfitting).
    run = m["runs"]["l1"]
    train, val = run["train"], run["curves"]["val"]
    start = len(val["step"]) // 2
    plots.curves(logdir / "fig09_final_l1_loss_zoom.png",
                 {"train (batch)": (train["step"][start - 1:], train["loss"][start - 1:]),
                  "validation": (val["step"][start:], val["loss"][start:])},
                 f"Zoom on figure 8: iterations {start}+ (l1, decay {run['decay']:g})",
                 xlabel="iteration", ylabel="loss", smooth=5)


@REPORT.figure("architecture")
def architecture_figure(record, logdir):
    """Section c's table as a figure: test accuracy per row, report vs reproduction."""
    rows = seed_metrics(record, "architecture")[0]["rows"]
    keys = sorted(rows, key=int)
    names = [f"{k}: {'-'.join(map(str, rows[k]['hidden']))}" for k in keys]
    plots.metric_vs(logdir / "table_architecture_accuracy.png", names,
                    {"report": [ARCHITECTURES[int(k) - 1][-1] for k in keys],
                     "reproduced": [final(rows[k]) for k in keys]},
                    "Test accuracy per architecture", xlabel="row: hidden widths")


@REPORT.figure("regression_decay")
def regression_decay_figures(record, logdir):
    """Figures 12-13: test MSE vs the L2 weight decay, 100 and 1,000 samples."""
    m = seed_metrics(record, "regression_decay")[0]
    for number, n in zip((12, 13), ("100", "1000")):
        runs = m["runs"][n]
        plots.metric_vs(logdir / f"fig{number:02d}_regression_{n}_mse_vs_decay.png", m["decays"],
                        {"test MSE": _mse(runs, "test"), "train MSE": _mse(runs, "train")},
                        f"{n} samples, {DECAY_SEARCH_HIDDEN}: MSE vs L2 weight decay",
                        xlabel="weight decay", ylabel="MSE", logx=True)


@REPORT.figure("regression")
def regression_figures(record, logdir):
    """Figures 14-15 (loss per epoch of the chosen fits) and the truth-vs-fit surfaces."""
    m = seed_metrics(record, "regression")[0]
    x1, x2, _ = grid(points=GRID_POINTS)
    samples = np.asarray(m["samples"]["x"]), np.asarray(m["samples"]["y"])
    for number, n in zip((14, 15), ("100", "1000")):
        run = m["rows"][n][m["best"][n]["row"]]
        per_epoch = int(n) // REGRESSION_BATCH[int(n)]
        test = run["curves"]["test"]
        plots.curves(logdir / f"fig{number:02d}_regression_{n}_loss.png",
                     {"train (epoch mean, with L2)": run["epoch_loss"],
                      "test MSE": ([step // per_epoch for step in test["step"]], test["loss"])},
                     f"{n} samples, {run['hidden']}: loss vs epoch", xlabel="epoch",
                     ylabel="MSE", logy=True)
        plots.surfaces(logdir / f"surface_regression_{n}.png", x1, x2,
                       {"f(x1, x2)": m["grid_truth"],
                        f"network {run['hidden']}": run["grid_prediction"]},
                       f"{n} training samples: truth vs fit "
                       f"(test MSE {run['final']['test']['loss']:.4f})",
                       points=(samples[0][:int(n)], samples[1][:int(n)]))


if __name__ == "__main__":
    sys.exit(REPORT.main())
