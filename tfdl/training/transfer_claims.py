"""The checks and the figure of a transfer comparison (`transfer.transfer_rows`' record, report
003's part 3): its rows against the report's printed numbers on the real data, and the
stand-in's own sanity checks where the real data is not at hand.

Example (the report's numbers and quotes stay in the script that declares the claims):

    REPORT.claim(*standin_claims("standin", REPORTED, reported_lr=0.001, beats=0.02,
                                 chance=0.5, pretrain_floor=0.3))
    REPORT.claim(*reported_claims("faces", REPORTED, QUOTES, tolerance=0.05,
                                  reported_lr=0.001, lr_quote="..."))
    samples_figure(seed_metrics(record, "faces")[0], logdir, "faces")
"""

from tfdl import plots
from tfdl.harness.claims import OWN, PROTOCOL, Claim, NotRun, at_least, equals, is_true, within
from tfdl.training.transfer import ROWS

import numpy as np

ROW_TEXT = {"xgboost": "XGBoost on raw pixels", "scratch": "ResNet-18 from scratch",
            "probe": "pretrained ResNet-18, last layer only (linear probe)",
            "logreg": "sklearn logistic regression on pretrained features",
            "finetune": "pretrained ResNet-18 fine-tuned"}


def standin_claims(experiment, reported, reported_lr, *, beats, chance, pretrain_floor):
    """Own checks of a stand-in run (`transfer.cifar_standin`): its data is not the report's, and
    every bar is ours — pretraining learned (`pretrain_floor`), fine-tune and probe beat
    scratch by `beats`, the lr search picks `reported_lr`, fine-tune is best, every row beats
    `chance`. `reported` {row: accuracy} (the report's, on its data) only goes in the notes.
    The weight cache's round trip is a protocol check."""
    tag = "[STAND-IN]"
    return [
        Claim(f"{experiment}.cache", "pretrained weights are cached and reload to the same model",
              experiment, reported="same features", kind=PROTOCOL,
              value=lambda m: m["pretrain"]["cache_roundtrip"], check=is_true()),
        Claim(f"{experiment}.pretrain", f"pretraining on 8 classes: held-out accuracy {tag}",
              experiment, reported="not given", kind=OWN,
              value=lambda m: m["pretrain"]["val_accuracy"], check=at_least(pretrain_floor),
              profiles=("full",), note="8 classes: chance is 0.125"),
        *(Claim(f"{experiment}.{row}_vs_scratch", f"{text} minus scratch test accuracy, 1 epoch "
                f"{tag}", experiment, reported=f"beats scratch by ≥ {beats:g}", kind=OWN,
                value=lambda m, row=row: m["test_accuracy"][row] - m["test_accuracy"]["scratch"],
                check=at_least(beats), profiles=("full",),
                note=f"report (faces): {reported[row]} - {reported['scratch']} = "
                     f"{reported[row] - reported['scratch']:.4g}")
          for row, text in (("finetune", "fine-tune"), ("probe", "linear probe"))),
        Claim(f"{experiment}.lr", f"lr search (0.01 / 0.001 / 0.0001) picks {tag}", experiment,
              reported=reported_lr, kind=OWN, value=lambda m: m["chosen_lr"],
              check=equals(reported_lr), profiles=("full",),
              note=f"the report's choice on the faces: {reported_lr:g}"),
        Claim(f"{experiment}.best", f"best of the five models {tag}", experiment,
              reported="finetune", kind=OWN,
              value=lambda m: max(m["test_accuracy"], key=m["test_accuracy"].get),
              check=equals("finetune"), profiles=("full",),
              note=f"the report's best on the faces: the fine-tuned ResNet-18 "
                   f"({reported['finetune']})"),
        *(Claim(f"{experiment}.{row}", f"{ROW_TEXT[row]}: test accuracy beats chance {tag}",
                experiment, reported=f"beats chance ({chance:g})", kind=OWN,
                value=lambda m, row=row: m["test_accuracy"][row], check=at_least(chance),
                profiles=("full",), note=f"report (faces, not comparable): {reported[row]}")
          for row in ROWS),
    ]


def reported_claims(experiment, reported, quotes, *, tolerance, reported_lr, lr_quote):
    """Headlines of a run on the report's own data: each row's test accuracy within `tolerance`
    of `reported` {row: accuracy} (`quotes` {row: the report's words}) and the lr search's
    pick. An experiment that returned `{"run": False, "reason": ...}` reads NOT RUN."""
    def value(key):
        def read(m):
            if not m["run"]:
                return NotRun(m["reason"])
            return m["chosen_lr"] if key == "lr" else m["test_accuracy"][key]
        return read

    return [
        *(Claim(f"{experiment}.{row}", f"{ROW_TEXT[row]}: test accuracy", experiment,
                reported=reported[row], quote=quotes[row], value=value(row),
                check=within(reported[row], tolerance))
          for row in ROWS),
        Claim(f"{experiment}.lr", "lr search (0.01 / 0.001 / 0.0001) picks", experiment,
              reported=reported_lr, quote=lr_quote, value=value("lr"), check=equals(reported_lr)),
    ]


def samples_figure(metrics, logdir, name):
    """5 test samples per class the best model classifies correctly and the worst does not
    (`metrics["samples"]`, `transfer.contrast_images`); nothing when the run has none."""
    s = metrics.get("samples")
    if not s:
        return
    images, labels = [], []
    for cls, pixels in s["images"].items():
        images += pixels
        labels += [metrics["class_names"][int(cls)]] * len(pixels)
    if images:
        plots.image_grid(logdir / f"{name}_best_right_worst_wrong.png", np.asarray(images),
                         f"{name}: right by {s['best']}, wrong by {s['worst']}", labels, columns=5)
