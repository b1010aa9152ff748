"""The reports' own printed numbers, from full-protocol runs of selected experiments (seed 0).

Each case runs one experiment of a report with its full profile and checks claims whose number
the report prints, with the script's own claims and tolerances. The expected verdict for seed 0
is the committed record's (results/<report>.json) where there is a current one, else the one
declared here; a claim that does not reproduce today is `xfail(strict=True)` with the reason, so it
turns red the day it starts to hold; one whose outcome depends on the CPU's float round-off is
`strict=False`.
"""

import os
from pathlib import Path

from tfdl.harness import claims, cli, results

import pytest

ROOT = Path(__file__).resolve().parents[1]

# report -> (experiment, {claim id: (expected seed-0 verdict, reason if not PASS)}, data needed,
#            profile keys that restrict the experiment to the runs these claims read)
CASES = {
    "hw2_mydnn": ("batch_size", {
        "batch.test_acc_128": ("PASS", ""),
        "batch.test_acc_1024": ("PASS", ""),
        "batch.test_acc_10K": ("PASS", ""),
        "batch.test_acc_20K": ("PASS", ""),
    }, False, {}),
    "assignment1_softmax_cifar": ("four_tests", {
        "table1.test2.accuracy": ("PASS", ""),
        "table1.test3.accuracy": ("PASS", ""),
        "table1.test4.accuracy": ("PASS", ""),
        "table1.test2.cost": ("PASS", ""),
    }, True, {}),
    "hw2_init_variance": ("learning_rate", {
        "lr.0.001": ("PASS", ""),
        "lr.0.01": ("PASS", ""),
        "lr.0.001.loss": ("PASS", ""),
        "lr.0.01.loss": ("PASS", ""),
    # Two lrs, each its full 10,000 steps of batch 1000 (~75 s each on 2 idle cores, at the
    # machine's FLOP floor; all seven take ~8-13 min, past the default run's 25 minutes). lr
    # 0.005 (a calibration target that fails on every seed, README) is left to the record.
    }, False, {"learning_rates": [0.001, 0.01]}),
    "hw1_deep_vs_shallow": ("simulate_function", {
        "t1.arcsinh_iterations": ("PASS", ""),
        "t1.cos_slower": ("FAIL", "on the inferred x-range [-2π, 2π] cos converges about as fast "
                                  "as arcsinh, not 5× slower (README, Clemson HW1)"),
    }, False, {}),
    "ex4_mlp_cnn": ("batch_norm", {
        "q3.final": ("PASS", ""),
        "q3.epoch1": ("PASS", ""),
    }, True, {}),
}


COMMITTED = results.load_records(ROOT / "results")  # rows marked STALE where the code changed


def _committed_verdict(report, claim_id):
    """Seed 0's verdict in the committed record, unless that row was recorded with other code
    than today's (STALE: today's code may give another verdict)."""
    if report not in COMMITTED:
        return None
    row = next((r for r in COMMITTED[report]["headlines"] if r["id"] == claim_id), {})
    if row.get("stale", True):
        return None
    return next((s["verdict"] for s in row.get("per_seed", []) if s["seed"] == 0), None)


@pytest.fixture(scope="module")
def full_runs(tmp_path_factory):
    """Each report's experiment, full protocol, seed 0, run once for all its claims."""
    runs = {}

    def run(report_name):
        if report_name not in runs:
            experiment, _, needs_data, only_runs = CASES[report_name]
            if needs_data and not os.environ.get("TFDL_DATA_DIR"):
                pytest.skip("TFDL_DATA_DIR is unset: this report's data comes from the data "
                            "directory (../shared/data)")
            report = cli.load_report(report_name)
            runs[report_name] = report.run(profile="full", only=[experiment],
                                           logdir=tmp_path_factory.mktemp(report_name),
                                           overrides=only_runs)
        return runs[report_name]

    return run


PARAMS = []
for _report, (_experiment, _claims, _, _) in CASES.items():
    for _claim, (_verdict, _reason) in _claims.items():
        _expected = _committed_verdict(_report, _claim) or _verdict
        marks = ([pytest.mark.xfail(strict=True, reason=_reason or "FAIL in the committed record")]
                 if _expected != "PASS" else [])
        PARAMS.append(pytest.param(_report, _claim, id=f"{_report}:{_claim}", marks=marks))


def test_cases_name_reported_numbers():
    for report_name, (experiment, expected, _, only_runs) in CASES.items():
        report = cli.load_report(report_name)
        by_id = {c.id: c for c in report.claims}
        full = report.profiles["full"]
        for key, runs in only_runs.items():  # a subset of the full profile's runs, nothing else
            assert set(map(str, runs)) <= set(map(str, full[key])), (report_name, key)
        assert len(expected) >= 2, report_name
        for claim_id in expected:
            claim = by_id[claim_id]
            assert claim.experiment == experiment and claim.kind == claims.HEADLINE
            # a number the report prints: in the claim's quote of the report's text
            assert any(ch.isdigit() for ch in claim.quote), claim_id


@pytest.mark.parametrize("report_name, claim_id", PARAMS)
def test_reported_number_comes_out(full_runs, report_name, claim_id):
    record = full_runs(report_name)
    row = next(r for r in record["headlines"] if r["id"] == claim_id)
    seed0 = row["per_seed"][0]
    assert seed0["verdict"] == "PASS", (
        f"{claim_id}: reproduced {seed0['value']} vs reported {row['reported']} "
        f"({row['tolerance']}): {seed0['verdict']}")
