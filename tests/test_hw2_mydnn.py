"""Report 000 (Technion 236606 HW2, mydnn): the script's architecture weight counts, the
report's row-6 mistake, and the quick profile."""

from tfdl.harness import claims, cli
from tfdl.models import count_params, mlp

import pytest

WEIGHTS = {(64,): 50_816, (128,): 101_632, (256,): 203_264, (512,): 406_528, (64, 64): 54_912,
           (512, 512): 668_672, (128, 64): 109_184, (80, 512): 108_800, (100, 200): 100_400,
           (512, 80): 443_168}


@pytest.mark.parametrize("hidden, weights", list(WEIGHTS.items()))
def test_architecture_weights_exact(hidden, weights):
    assert count_params(mlp(784, list(hidden), 10), weights_only=True) == weights


def test_report_row6_is_the_product_mistake():
    # The report's 1,342,578,688 is 784·512 + 512·512·512·10, not the sum of the layers.
    assert 784 * 512 + 512 * 512 * 512 * 10 == 1_342_578_688
    assert 784 * 512 + 512 * 512 + 512 * 10 == 668_672


def test_quick_profile_headlines(tmp_path):
    record = cli.load_report("hw2_mydnn").run(profile="quick", logdir=tmp_path)
    rows = {row["id"]: row for row in record["headlines"]}
    # reg.too_strong_* read decays 1e-3 / 1e-2, which only the full profile's grid searches.
    protocol = ({f"batch.iterations_{b}" for b in ("128", "1024", "10K", "20K")}
                | {f"arch.weights_row{i}" for i in range(1, 11)} | {"reg.none_search_noop"})
    assert set(rows) == protocol | {"batch.acc_falls", "regr.more_data_better"}
    assert {i for i, row in rows.items() if row["kind"] == claims.PROTOCOL} == protocol
    failed = [row["id"] for row in rows.values() if not claims.holds(row)]
    assert not failed, failed
    assert rows["batch.iterations_128"]["reproduced"] == 1560
    row6 = rows["arch.weights_row6"]
    assert row6["reproduced"] == 668_672
    assert row6["reported"] == 1_342_578_688 and row6["corrected"] == 668_672
    assert row6["verdict"] == "REPORT ERROR" and row6["corrected_verdict"] == "PASS"
    assert rows["arch.weights_row5"]["verdict"] == "PASS"
    assert any((tmp_path / "regularization" / "tuner" / "seed0" / "decay_l2").glob("trial_*"))
    for figure in ("fig01_batch128_loss.png", "fig06_decay_l2_accuracy.png",
                   "fig09_final_l1_loss_zoom.png", "fig10_final_l2_loss.png",
                   "fig12_regression_100_mse_vs_decay.png",
                   "fig13_regression_1000_mse_vs_decay.png",
                   "surface_regression_1000.png"):
        assert (tmp_path / figure).is_file(), figure


@pytest.mark.slow
def test_full_profile_headlines(tmp_path):
    record = cli.load_report("hw2_mydnn").run(profile="full", logdir=tmp_path)
    rows = {row["id"]: row for row in record["headlines"]}
    assert len(rows) == 46
    # The run-time rows measure this machine, not the reproduction: reported, not pinned here.
    # The own checks reg.too_strong_* came after the recorded full run: not pinned either.
    failed = sorted(i for i, row in rows.items()
                    if not claims.holds(row) and row["kind"] != claims.OWN
                    and not i.startswith("batch.runtime_"))
    assert failed == sorted(KNOWN_FULL_FAILS), failed
    assert {rows[f"regr.best_mse_{n}"]["verdict"] for n in (100, 1000)} == {"BETTER"}
    assert all(rows[f"batch.runtime_{b}"]["reproduced"] > 0 for b in ("128", "1024", "10K", "20K"))


KNOWN_FULL_FAILS = ["arch.test_acc_row6", "arch.test_acc_row8", "regr.best_mse_100",
                    "regr.best_mse_1000"]
