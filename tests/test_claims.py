"""Claims evaluated per seed, their verdicts, and the tables printed from them."""

from tfdl.harness import claims
from tfdl.harness.claims import Claim, equals, within
from tfdl.harness.experiment import all_hold, evaluate_claims
from tfdl.harness.table import format_markdown, format_table

import pytest


def test_checks():
    assert claims.within(0.93, 0.02)(0.945) and not claims.within(0.93, 0.02)(0.96)
    assert claims.within_relative(2.0, 0.1)(2.19) and not claims.within_relative(2.0, 0.1)(2.3)
    assert claims.at_most(-0.8)(-0.9) and not claims.at_most(-0.8)(-0.5)
    assert claims.between(10_000, 40_000)(20_000) and not claims.between(1, 2)(3)
    assert claims.equals(1560)(1560) and not claims.equals(1560)(1559)
    assert claims.is_true()(True) and not claims.is_true()(1)
    assert not claims.at_least(0)(None) and not claims.at_least(0)(float("nan"))
    assert claims.equals(3).categorical and not claims.within(1, 1).categorical


def test_pass_rule():
    assert [claims.required_passes(n) for n in (1, 2, 3, 4, 6, 10)] == [1, 2, 2, 3, 4, 7]
    assert claims.required_passes(3, fraction=1.0) == 3


def test_unknown_kind_is_refused():
    with pytest.raises(ValueError, match="kind"):
        Claim("x", "x", "e", reported=1, value=lambda m: 1, check=claims.equals(1), kind="other")


def _three_seeds():
    """Seed 1 diverged after 2 of 4 validations; seed 2 picks another best batch size."""
    run = {"0": {"diverged": False, "val_accuracy": [0.2, 0.5, 0.8, 0.95], "best_batch": 128,
                 "params": 751},
           "1": {"diverged": True, "val_accuracy": [0.0226, None], "best_batch": 1024,
                 "params": 751},
           "2": {"diverged": False, "val_accuracy": [0.3, 0.6, 0.85, 0.91], "best_batch": 30,
                 "params": 751}}
    return {"title": "Toy", "report": "toy", "profile": "full", "seeds": [0, 1, 2],
            "machine": "x86_64, 2 CPU cores, no GPU",
            "versions": {"tensorflow": "2.21.0", "keras": "3.15.1"},
            "experiments": {"train": {s: {"metrics": m, "wall_s": 10.0, "fingerprint": "f"}
                                      for s, m in run.items()}}}


CLAIMS = [
    Claim("final", "final validation accuracy", "train", reported=0.93, quote="93%",
          value=lambda m: m["val_accuracy"][-1], check=claims.within(0.93, 0.02)),
    Claim("best", "best batch size", "train", reported=128, quote="128",
          value=lambda m: m["best_batch"], check=claims.equals(128), diverged=lambda m: False),
    Claim("range", "best batch size within", "train", reported="10^2-10^3", quote="10^2",
          value=lambda m: m["best_batch"], check=claims.between(100, 1000), categorical=True,
          diverged=lambda m: False),
    Claim("params", "parameters", "train", reported=750, value=lambda m: m["params"],
          check=claims.within_relative(750, 0.02), kind=claims.PROTOCOL),
    Claim("weights", "weights of row 6", "train", reported=1_342_578_688, corrected=751,
          value=lambda m: m["params"], check=claims.equals(751), kind=claims.PROTOCOL),
    Claim("mse", "best MSE", "train", reported=0.9, quote="0.9", value=lambda m: 0.1,
          check=claims.at_most(1.2), better=claims.at_most(0.6), diverged=lambda m: False),
    Claim("spread", "share of variance in 2 PCs", "train", reported="not given",
          value=lambda m: 0.5, check=claims.at_least(0.4), kind=claims.OWN),
]


def test_every_cell_of_a_three_seed_record_with_a_diverged_seed():
    record = _three_seeds()
    record["headlines"] = evaluate_claims(CLAIMS, record, fingerprint="f")
    rows = {r["id"]: r for r in record["headlines"]}

    final = rows["final"]  # seed 1 diverged: counted, never replaced by its pre-divergence value
    assert [s["verdict"] for s in final["per_seed"]] == ["PASS", "diverged", "FAIL"]
    assert final["reproduced"] == pytest.approx(0.93) and final["measured"] == 2
    assert final["verdict"] == "FAIL"  # 1 of 3 seeds pass; the rule needs 2
    best = rows["best"]  # a choice: counted per seed, never averaged
    assert best["counts"] == [[128, 1], [1024, 1], [30, 1]] and best["verdict"] == "FAIL"
    assert rows["range"]["counts"][0] == [128, 1] and rows["range"]["verdict"] == "FAIL"
    assert rows["weights"]["verdict"] == "REPORT ERROR"
    assert rows["weights"]["corrected_verdict"] == "PASS"
    assert rows["mse"]["verdict"] == "BETTER" and rows["mse"]["verdicts"] == {"BETTER": 3}

    text = format_table(record)
    lines = {line.split(":")[0]: line for line in text.splitlines() if ":" in line}
    assert lines["final"].split("  ")[0] == "final: final validation accuracy"
    for cell in ("0.93", "0.93 ± 0.028 (2 of 3 seeds)", "±0.02",
                 "PASS 1/3, FAIL 1/3, diverged 1/3", "FAIL"):
        assert cell in lines["final"]
    for cell in ("128 (1/3), 1,024 (1/3), 30 (1/3)", "= 128", "PASS 1/3, FAIL 2/3"):
        assert cell in lines["best"]
    assert "REPORT ERROR (correct 751: PASS)" in lines["weights"]
    assert "1,342,578,688" in lines["weights"]
    assert "0.1" in lines["mse"] and "BETTER 3/3" in lines["mse"]
    sections = [line for line in text.splitlines()
                if line.startswith(("Headlines", "Own", "Proto"))]
    assert len(sections) == 3
    # the headline count leaves out own and protocol checks; BETTER does not hold
    assert ("0/4 headlines hold (1 better than reported); 1/1 own checks hold; "
            "2/2 protocol checks hold (1 report error)") in text
    assert "STALE" not in text
    assert not all_hold(record)

    markdown = format_markdown(record)
    assert ("| final: final validation accuracy | 0.93 | 0.93 ± 0.028 (2 of 3 seeds) | ±0.02 | "
            "PASS 1/3, FAIL 1/3, diverged 1/3 | FAIL |") in markdown
    assert "wall time per experiment (all seeds): train 30 s." in markdown


def test_stale_rows_are_marked():
    record = _three_seeds()
    record["headlines"] = evaluate_claims(CLAIMS[:1], record, fingerprint="other code")
    assert record["headlines"][0]["stale"]
    assert "FAIL STALE" in format_table(record) and "1 rows STALE" in format_table(record)


def test_not_run_rows_are_neither_pass_nor_fail():
    claim = Claim("faces", "faces accuracy", "train", reported=0.735, quote="0.735",
                  value=lambda m: claims.NotRun("not run: data not provided"),
                  check=claims.within(0.735, 0.05))
    row = claim.evaluate({"0": {}, "1": {}})
    assert row["verdict"] == "NOT RUN" and row["reproduced"] == "not run: data not provided"
    record = {**_three_seeds(), "headlines": [row]}
    assert "0/0 headlines hold (1 not run)" in format_table(record)
    assert not all_hold(record)  # nothing was checked


def test_data_label_picks_the_check_and_the_reported_value():
    claim = Claim("acc", "test accuracy", "train", reported=0.3879, quote="38.79%",
                  value=lambda m: m["acc"], check=claims.within(0.3879, 0.01),
                  data_label=lambda m: m["data"],
                  checks={"stand-in": claims.within(0.37, 0.02)}, reported_for={"stand-in": 0.37})
    row = claim.evaluate({"0": {"acc": 0.36, "data": "stand-in"}})
    assert row["claim"] == "test accuracy [stand-in]" and row["reported"] == 0.37
    assert row["tolerance"] == "±0.02" and row["verdict"] == "PASS"
    assert claim.evaluate({"0": {"acc": 0.36, "data": "real"}})["verdict"] == "FAIL"


def test_claim_tolerance_follows_the_data_label():
    claim = Claim("c", "accuracy", "e", reported=0.40, value=lambda m: m["acc"],
                  check=within(0.40, 0.015), data_label=lambda m: m["data"],
                  checks={"stand-in": within(0.40, 0.02)})
    real = claim.evaluate({0: {"acc": 0.382, "data": "real"}})
    standin = claim.evaluate({0: {"acc": 0.382, "data": "stand-in"}})
    assert (real["verdict"], real["tolerance"], real["claim"]) == ("FAIL", "±0.015",
                                                                   "accuracy [real]")
    assert (standin["verdict"], standin["tolerance"]) == ("PASS", "±0.02")
    assert real["reported"] == standin["reported"] == 0.40  # the same bar, a wider band


def test_claim_scoped_to_a_profile_is_left_out_of_other_tables():
    claims = [Claim("a", "all", "e", 1, lambda m: m["v"], equals(1)),
              Claim("f", "full only", "e", 1, lambda m: m["v"], equals(1), profiles=("full",))]
    record = {"profile": "quick", "seeds": [0],
              "experiments": {"e": {"0": {"metrics": {"v": 1}}}}}
    assert [row["id"] for row in evaluate_claims(claims, record)] == ["a"]
    record["profile"] = "full"
    assert [row["id"] for row in evaluate_claims(claims, record)] == ["a", "f"]
