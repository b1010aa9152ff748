"""Report 003's part 3 declared on a `Report` in one call: the report's protocol on the course's
real-vs-fake faces with ImageNet ResNet-18 weights (`--faces-dir`, `--resnet18-weights`: user
data) and its offline CIFAR-10 stand-in, each an experiment with its claims
(`transfer_claims`) and its samples figure.

Example (the numbers, quotes and settings are the script's declared constants):

    transfer_study.declare(
        REPORT, reported=REPORTED, quotes=QUOTES, reported_lr=0.001, lr_quote="...",
        tolerance=0.05, beats=0.02, chance=0.5, pretrain_floor=0.3,
        settings=lambda: dict(learning_rates=[1e-2, 1e-3, 1e-4], batch_size=32, epochs=1,
                              optimizer="adam", xgb_size=64, held_out=(3, 5),
                              pretrain_lr=1e-3, pretrain_batch=64))

`settings` is called when an experiment runs, so `--set` on the constants it reads reaches the
run; the claims' bars are read once, when the script loads. Profile keys read: `cnn_width`,
`pretrain_epochs`, `pretrain_examples`, `pretrain_val_examples`, `transfer_examples`,
`xgb_trees`, `face_size`.
"""

from tfdl.data.cifar10 import load_cifar10
from tfdl.harness.experiment import seed_metrics
from tfdl.training import transfer, transfer_claims


def declare(report, *, reported, quotes, reported_lr, lr_quote, tolerance, beats, chance,
            pretrain_floor, settings):
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
            load_cifar10(layout="image", data_dir=ctx.data_dir), s["held_out"],
            width=cfg["cnn_width"], pretrain_lr=s["pretrain_lr"],
            pretrain_batch=s["pretrain_batch"], pretrain_epochs=cfg["pretrain_epochs"],
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
    # their bars (chance, a margin of `beats`) are ours; the report's numbers are in the notes.
    report.claim(*transfer_claims.standin_claims(
        "standin", reported, reported_lr, beats=beats, chance=chance,
        pretrain_floor=pretrain_floor))
    report.experiment(faces)
    report.claim(*transfer_claims.reported_claims(
        "faces", reported, quotes, tolerance=tolerance, reported_lr=reported_lr,
        lr_quote=lr_quote))
    for name in ("standin", "faces"):
        report.figure(name)(lambda record, logdir, name=name: transfer_claims.samples_figure(
            seed_metrics(record, name)[0], logdir, name))
