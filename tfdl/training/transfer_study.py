"""Report 003's part 3 declared on a `Report` in one call: the report's protocol on the course's
real-vs-fake faces with ImageNet ResNet-18 weights (`--faces-dir`, `--resnet18-weights`: user
data) and its offline CIFAR-10 stand-in, each an experiment with its claims
(`transfer_claims`) and its samples figure.

Example (the numbers, quotes and settings are the script's declared constants):

    transfer_study.declare(
        REPORT, reported=REPORTED, quotes=QUOTES, reported_lr=0.001, lr_quote="...",
        tolerance=0.05, settings=lambda: dict(learning_rates=[1e-2, 1e-3, 1e-4], batch_size=32,
                                              epochs=1, optimizer="adam", xgb_size=64))

`settings` is called when an experiment runs, so `--set` on the constants it reads reaches the
run; `tolerance` is read once, when the script loads. Profile keys read: `cnn_width`,
`pretrain_epochs`, `pretrain_examples`, `pretrain_val_examples`, `transfer_examples`,
`xgb_trees`, `face_size`. The stand-in's own protocol is below: tfdl's choices, not the report's.
"""

from tfdl.data.cifar10 import load_cifar10
from tfdl.harness.experiment import seed_metrics
from tfdl.training import transfer, transfer_claims

# The stand-in: "ImageNet" is the 8 CIFAR-10 classes other than cat and dog, pretrained on
# data_batch_1 + data_batch_2 (16,000 images; the stand-in has 20,000 training images), Adam lr
# 0.001, batch 64, the full width-64 network for one epoch (250 steps): 2.7 CPU-seconds a step
# measured, 6-11 minutes on 2 idle cores (2 epochs would double it); the binary task is cat vs dog.
HELD_OUT = (3, 5)  # cat, dog
PRETRAIN_LR, PRETRAIN_BATCH = 0.001, 64
PRETRAIN_FLOOR = 0.3  # pretraining sanity: 8-class held-out accuracy (chance 0.125), 1 epoch
# A difference of two accuracies on the 2,000 cat/dog test images has std ~0.016; "beats"
# means by at least 0.02.
BEATS = 0.02
CHANCE = 0.5  # balanced binary test sets


def declare(report, *, reported, quotes, reported_lr, lr_quote, tolerance, settings):
    """Adds the options, the experiments `standin` and `faces`, their claims and figures."""
    report.option("--faces-dir", metavar="DIR",
                  help="part 3's real-vs-fake faces: DIR/{train,val,test}/{real,fake}/ images")
    report.option("--resnet18-weights", metavar="FILE",
                  help="ImageNet ResNet-18 weights: a Keras .weights.h5 of tfdl.models.resnet."
                       "resnet18() or a torchvision state dict saved with numpy.savez (.npz)")

    def rows(ctx, s):
        """`transfer.transfer_rows`' settings (the five models)."""
        return dict(learning_rates=s["learning_rates"], batch_size=s["batch_size"],
                    epochs=s["epochs"], seed=ctx.seed, optimizer=s["optimizer"],
                    xgb_trees=ctx.config["xgb_trees"], log=ctx.log)

    def standin(ctx):
        """Stand-in: pretrain on 8 CIFAR-10 classes, transfer to cat vs dog (STAND-IN rows)."""
        s, cfg = settings(), ctx.config
        return transfer.cifar_standin(
            load_cifar10(layout="image", data_dir=ctx.data_dir), HELD_OUT,
            width=cfg["cnn_width"], pretrain_lr=PRETRAIN_LR, pretrain_batch=PRETRAIN_BATCH,
            pretrain_epochs=cfg["pretrain_epochs"],
            cache_dir=ctx.logdir / "pretrained", pretrain_examples=cfg["pretrain_examples"],
            task_examples=cfg["transfer_examples"],
            pretrain_val_examples=cfg["pretrain_val_examples"], **rows(ctx, s))

    def faces(ctx):
        """The report's protocol: real-vs-fake faces, ImageNet ResNet-18 (needs user data)."""
        faces_dir = ctx.options.get("faces_dir")
        weights = ctx.options.get("resnet18_weights")
        missing = [flag for flag, value in (("--faces-dir", faces_dir),
                                            ("--resnet18-weights", weights)) if not value]
        if missing:
            return {"run": False, "reason": f"not run: data not provided ({', '.join(missing)})"}
        s = settings()
        return {"run": True, **transfer.faces_protocol(
            faces_dir, weights, size=ctx.config["face_size"], xgb_size=s["xgb_size"],
            **rows(ctx, s))}

    report.experiment(standin)
    # The stand-in rows are own checks: cat vs dog on CIFAR-10 is not the report's data, and
    # their bars (chance, a margin of BEATS) are ours; the report's numbers are in the notes.
    report.claim(*transfer_claims.standin_claims(
        "standin", reported, reported_lr, beats=BEATS, chance=CHANCE,
        pretrain_floor=PRETRAIN_FLOOR))
    report.experiment(faces)
    report.claim(*transfer_claims.reported_claims(
        "faces", reported, quotes, tolerance=tolerance, reported_lr=reported_lr,
        lr_quote=lr_quote))
    for name in ("standin", "faces"):
        report.figure(name)(lambda record, logdir, name=name: transfer_claims.samples_figure(
            seed_metrics(record, name)[0], logdir, name))
