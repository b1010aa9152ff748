"""Report 003 (HUJI ML Methods Ex4): the quick profile's headlines and figures of the MLP parts,
and part 3's (CNN) quick run of its standin and faces experiments, the real-protocol path on
generated faces and the full profiles."""

import os

from tfdl.harness import claims, experiment
from tfdl.harness.cli import load_script
from tfdl.harness.experiment import all_hold
from tfdl.models.resnet import resnet18, torchvision_state
from tfdl.training import transfer

import numpy as np
import pytest
import tensorflow as tf
from conftest import needs_extra

# ## MLP parts: one quick run of their experiments (the conftest's quick_run fixture)

MLP_EXPERIMENTS = ["learning_rate", "epochs", "batch_norm", "batch_size", "depth_width",
                   "gradient_magnitude", "implicit_representation"]
REPORT_NAME, QUICK_EXPERIMENTS, NEEDS_DATA = "ex4_mlp_cnn", MLP_EXPERIMENTS, True  # quick_run


QUICK_HEADLINES = {"q1.lr1", "q1.lr1e-5.gap", "q3.epoch1", "q4.noise", "q5.chance"}


def test_quick_profile_headlines_hold(quick_run):
    _, record = quick_run
    rows = {row["id"]: row for row in record["headlines"]}
    assert QUICK_HEADLINES <= set(rows)
    assert all(rows[i]["kind"] == claims.HEADLINE for i in QUICK_HEADLINES)
    failed = [(i, rows[i]["reproduced"], rows[i]["verdicts"]) for i in QUICK_HEADLINES
              if rows[i]["verdict"] != claims.PASS]
    assert not failed


def test_quick_profile_draws_figures_and_boundaries(quick_run):
    logdir, _ = quick_run
    for name in ("q1_val_loss_by_lr.png", "q4_train_loss_by_batch.png",
                 "eval_accuracy_vs_depth.png",
                 "q5_gradient_magnitude.png"):
        assert (logdir / name).is_file(), name
    assert list((logdir / "depth_width").glob("*/seed0/decision_boundaries_best.png"))
    assert list((logdir / "implicit_representation").glob("sine/seed0/decision_boundaries.png"))


@pytest.mark.slow
def test_full_profile_headlines(tmp_path):
    if not os.environ.get("TFDL_DATA_DIR"):
        pytest.skip("TFDL_DATA_DIR is unset: the Europe data (../shared/data/europe) is needed")
    from tfdl.harness.cli import load_report

    record = load_report("ex4_mlp_cnn").run(profile="full", only=MLP_EXPERIMENTS, logdir=tmp_path)
    failed = sorted(r["id"] for r in record["headlines"]
                    if r["verdict"] != claims.NOT_RUN and not claims.holds(r))
    assert failed == sorted(KNOWN_FULL_FAILS), failed


KNOWN_FULL_FAILS = ["q4.b1", "q4.b16", "q4.b128", "q4.b1024", "q4.best", "eval.worst_acc",
                    "q5.vanish", "q5.chance"]


# ## Part 3 (CNN): the standin and faces experiments, in runs of their own (not quick_run's)

CNN_EXPERIMENTS = ["standin", "faces"]
needs_data = pytest.mark.skipif(not os.environ.get("TFDL_DATA_DIR"),
                                reason="TFDL_DATA_DIR unset: the CIFAR-10 stand-in is needed")


@needs_extra
@needs_data
def test_cnn_quick_profile(tmp_path):
    script = load_script("ex4_mlp_cnn")
    record = script.REPORT.run(profile="quick", only=CNN_EXPERIMENTS, logdir=tmp_path)
    rows = {r["id"]: r for r in record["headlines"]}
    assert rows["standin.cache"]["verdict"] == claims.PASS
    assert rows["standin.cache"]["kind"] == claims.PROTOCOL
    for row in ("xgboost", "scratch", "probe", "logreg", "finetune", "lr"):
        assert rows[f"faces.{row}"]["verdict"] == claims.NOT_RUN
        assert rows[f"faces.{row}"]["kind"] == claims.HEADLINE
        assert rows[f"faces.{row}"]["reproduced"].startswith("not run: data not provided")
    # Every row checked holds. The quick profile checks only standin.cache (protocol; the other
    # stand-in rows are full-profile own checks) and the face rows are NOT RUN, so no headline
    # is checked and all_hold is False.
    assert all(claims.holds(r) for r in rows.values() if r["verdict"] != claims.NOT_RUN)
    assert not all_hold(record)
    m = record["experiments"]["standin"]["0"]["metrics"]
    assert m["data"] == "stand-in" and m["source"].startswith("CIFAR-10 JPEG stand-in")
    assert m["sizes"] == {"train": 256, "val": 256, "test": 256}
    assert m["pretrain"]["examples"] == 256 and not m["pretrain"]["cached"]
    assert m["chosen_lr"] in (0.01, 0.001, 0.0001)
    assert all(0.0 <= m["test_accuracy"][r] <= 1.0 for r in transfer.ROWS)
    assert (tmp_path / "standin_best_right_worst_wrong.png").is_file()
    # a rerun finds the cached pretraining instead of training again
    build = lambda: resnet18((32, 32, 3), classes=8, width=script.PROFILES["quick"]["cnn_width"])  # noqa: E731
    _, info = transfer.pretrain(build, None, None, 0.001, 64, 1, cache=m["pretrain"]["cache"])
    assert info["cached"] is True
    full_rows = experiment.evaluate_claims(script.REPORT.claims, {**record, "profile": "full"})
    assert all("STAND-IN" in r["claim"] and r["kind"] == claims.OWN for r in full_rows
               if r["id"].startswith("standin.") and r["id"] != "standin.cache")


@pytest.mark.slow
@needs_extra
def test_real_protocol_path_on_generated_faces(tmp_path):
    """The faces experiment's code path on generated images and randomly initialized
    "ImageNet" weights (quick profile: 64x64): every real row gets a number."""
    script = load_script("ex4_mlp_cnn")
    rng = np.random.default_rng(0)
    for split in ("train", "val", "test"):
        for cls, shift in (("fake", 0), ("real", 80)):
            folder = tmp_path / "faces" / split / cls
            folder.mkdir(parents=True)
            for i in range(4):
                pixels = np.clip(rng.normal(100 + shift, 30, (48, 48, 3)), 0, 255).astype(np.uint8)
                tf.io.write_file(str(folder / f"{i}.png"), tf.io.encode_png(pixels))
    np.savez(tmp_path / "w.npz", **torchvision_state(resnet18((64, 64, 3), classes=1000)))
    record = script.REPORT.run(profile="quick", only=["faces"], logdir=tmp_path / "logs",
                               options={"faces_dir": str(tmp_path / "faces"),
                                        "resnet18_weights": str(tmp_path / "w.npz")})
    rows = {r["id"]: r for r in record["headlines"]}
    assert all(rows[f"faces.{r}"]["verdict"] in (claims.PASS, claims.FAIL) for r in transfer.ROWS)
    assert all(0.0 <= rows[f"faces.{r}"]["reproduced"] <= 1.0 for r in transfer.ROWS)
    assert rows["faces.lr"]["reproduced"] in script.CNN_LEARNING_RATES
    m = record["experiments"]["faces"]["0"]["metrics"]
    assert m["sizes"] == {"train": 8, "val": 8, "test": 8} and m["class_names"] == ["fake", "real"]


@pytest.mark.slow
@needs_extra
@needs_data
def test_cnn_full_profile(tmp_path):
    script = load_script("ex4_mlp_cnn")
    record = script.REPORT.run(profile="full", only=CNN_EXPERIMENTS, logdir=tmp_path)
    failed = [r["id"] for r in record["headlines"] if r["verdict"] == claims.FAIL]
    # the recorded full run (README, "HUJI Ex4"): XGBoost, not the fine-tuned ResNet, is best
    # (an own check: the face rows, the only headlines, are NOT RUN offline)
    assert failed == ["standin.best"], failed
