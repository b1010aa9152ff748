"""
Title: <what the report studies, in one line>
Report: shared/reports/<file>.txt (<course, assignment, author, year>)
Data: <dataset and split as the report uses them; where it comes from in tfdl>

The report <trains what> and claims:
  1. <claim, with the number it prints>;
  2. <claim>.

Run:  python reproductions/<name>.py                  (full protocol)
      python reproductions/<name>.py --profile quick  (CI, minutes)
      tensorboard --logdir logs/<name>

Result: README.md ("<section>"), generated from results/<name>.json (its table and each FAIL's
reason, from docs/notes/<name>.md); numbers typed here would go stale with the next rerun.

Copy this file to reproductions/<name>.py (the harness skips files starting with "_") and replace
the toy experiment below with the report's. README "Adding a report" lists the other files a new
report touches.
"""

import sys

from tfdl import plots, training
from tfdl.data import load_mnist
from tfdl.harness.claims import PROTOCOL, Claim, equals, within
from tfdl.harness.experiment import Report, seed_metrics
from tfdl.models import count_params, mlp
from tfdl.training.runs import final, fmt

# ## From the report
HIDDEN = [32]  # "a hidden layer of 32 units"
REPORTED_ACCURACY = 0.9  # "test accuracy = 0.9" (see the claim's quote)

# ## Inferred (not in the report)
# One value per experiment group, each with why. `--set NAME=VALUE` can change those read
# inside experiments (not a claim's bar: claims are built when the script loads).
LEARNING_RATE = 0.1  # plain SGD's usual MNIST rate; the report names none

FULL = {"train_examples": None, "epochs": 5}
# The quick profile is the full one with overrides: fewer examples and epochs, same code.
PROFILES = {"full": FULL, "quick": {**FULL, "train_examples": 2_000, "epochs": 1}}

REPORT = Report("_template", report_file="<file>.txt", title="<Report title>", profiles=PROFILES)


# ## Experiments: one function per section of the report, returning what its claims read


def _data(ctx):
    return load_mnist(validation=5_000).subsample(train=ctx.config["train_examples"])


def build():
    """The report's network, compiled."""
    return training.compile_model(mlp(784, HIDDEN, 10), LEARNING_RATE)


@REPORT.experiment
def accuracy(ctx):
    """<Section name>: train the report's network and score it."""
    splits = _data(ctx)
    model = build()
    # One configuration trained and recorded in the shape every script records (final per
    # split, curves per split, per-step training loss; see tfdl/training/fit.py).
    run = training.fit(model, splits, batch_size=100, epochs=ctx.config["epochs"], seed=ctx.seed,
                       curves=("val",), final=("test",), run_dir=ctx.run_dir("mlp"), label="mlp")
    ctx.log(f"test accuracy {fmt(final(run))}, {run['steps']} steps, {run['wall_s']:.0f}s")
    return {**run, "params": count_params(model)}


REPORT.claim(
    Claim("accuracy.test", "test accuracy", "accuracy", reported=REPORTED_ACCURACY,
          quote="test accuracy = 0.9", value=final,
          check=within(REPORTED_ACCURACY, 0.05), profiles=("full",)),
    Claim("accuracy.params", "parameters of the network we build", "accuracy",
          reported=784 * 32 + 32 + 32 * 10 + 10, value=lambda m: m["params"],
          check=equals(784 * 32 + 32 + 32 * 10 + 10), kind=PROTOCOL),
)


# ## Figures: each names the experiments it reads


@REPORT.figure("accuracy")
def accuracy_figure(record, logdir):
    """<Figure n of the report>: the validation loss every epoch, one curve per seed."""
    runs = seed_metrics(record, "accuracy")
    plots.curves(logdir / "fig1_val_loss.png",
                 {f"seed {seed}": (m["curves"]["val"]["step"], m["curves"]["val"]["loss"])
                  for seed, m in enumerate(runs)},
                 "Validation loss", xlabel="step")


if __name__ == "__main__":
    sys.exit(REPORT.main())
