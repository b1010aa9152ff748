"""Calibration: a declared search over unstated settings, ranked on its targets; the other
claims are held out."""

import json

from tfdl.harness import calibration, cli

import pytest

SCRIPT = '''
from tfdl.harness.calibration import Calibration
from tfdl.harness.claims import Claim, within, within_relative
from tfdl.harness.experiment import Report

# ## Inferred (not in the report)
SCALE = 1.0
OFFSET = 0

PROFILES = {"quick": {"parts": ["a", "b"]}}
REPORT = Report("toycal", report_file="none.txt", title="Toy", profiles=PROFILES)


@REPORT.experiment
def measure(ctx):
    """Two values that depend on the unstated settings."""
    out = {"a": 2.0 * SCALE + OFFSET}
    if "b" in ctx.config["parts"]:
        out["b"] = 10.0 * SCALE
    return out


REPORT.claim(
    Claim("a", "a", "measure", reported=2.0, quote="2", value=lambda m: m["a"],
          check=within(2.0, 0.5)),
    Claim("b", "b", "measure", reported=10.0, quote="10", value=lambda m: m["b"],
          check=within_relative(10.0, 0.1)),
)
REPORT.calibrate(Calibration(experiment="measure", targets=("a",),
                             space={"SCALE": [0.5, 1.0, 2.0], "OFFSET": [0, 1]},
                             protocol={"parts": ["a"]}, budget=6))
# Can any setting reach b? (b's own check is relative; the search counts 1 per unit of 5)
SEARCHES = {"reach_b": Calibration(experiment="measure", targets=("b",),
                                   space={"SCALE": [0.5, 1.0, 2.0]}, widths={"b": 5.0})}
'''


@pytest.fixture
def toy(add_reproduction):
    add_reproduction("toycal", SCRIPT)
    return cli.load_report("toycal")


def test_grid_search_ranks_settings_by_distance_to_the_targets(toy, tmp_path, capsys):
    assert cli.main(["calibrate", "toycal", "--profile", "quick"]) == 0
    out = capsys.readouterr()
    lines = [line.split() for line in out.out.splitlines()[3:]]
    # a = 2 SCALE + OFFSET against 2.0 ± 0.5: exact at (0.5, 1) and (1.0, 0), 1 away (2
    # tolerances) at (0.5, 0) and (1.0, 1); ties keep the grid's order
    assert lines[0][:4] == ["1", "SCALE=0.5,", "OFFSET=1", "0"]
    assert lines[1][:4] == ["2", "SCALE=1.0,", "OFFSET=0", "0"]
    assert lines[2][:4] == ["3", "SCALE=0.5,", "OFFSET=0", "2"]
    assert lines[-1][:4] == ["6", "SCALE=2.0,", "OFFSET=1", "6"]
    assert len(lines) == 6 and "grid search, 6 trials of 6 settings" in out.out
    # trials resume: a second search runs nothing new
    assert cli.main(["calibrate", "toycal", "--profile", "quick"]) == 0
    assert "skipped" in capsys.readouterr().err


def test_a_larger_space_than_the_budget_uses_the_bayesian_oracle(toy, tmp_path):
    table = calibration.search(toy, profile="quick", trials=4, logdir=tmp_path / "bayes",
                               space={"SCALE": [0.25, 0.5, 1.0, 2.0, 4.0], "OFFSET": [0, 1, 2]},
                               log=lambda line: None)
    assert table["method"] == "bayesian" and table["trials"] == 4
    settings = [tuple(r["setting"].items()) for r in table["rows"]]
    assert len(set(settings)) == 4
    scores = [r["score"] for r in table["rows"]]
    assert scores == sorted(scores)


def test_the_table_marks_calibrated_claims_and_counts_the_held_out(toy, tmp_path):
    record = toy.run(profile="quick", logdir=tmp_path / "plain")
    roles = {r["id"]: r["role"] for r in record["headlines"]}
    assert roles == {"a": "calibrated", "b": "held out"}
    from tfdl.harness.table import format_table
    text = format_table(record)
    assert "a: a [calibrated]" in text and "1/1 held-out headlines hold" in text


def test_a_claim_a_setting_was_chosen_on_by_hand_is_calibrated_not_scored(toy, tmp_path):
    import dataclasses

    toy.calibration = dataclasses.replace(toy.calibration, targets=("a", "b"),
                                          by_hand={"b": "SCALE checked on it"})
    record = toy.run(profile="quick", logdir=tmp_path / "plain")
    assert {r["id"]: r["role"] for r in record["headlines"]} == {"a": "calibrated",
                                                                 "b": "calibrated"}
    table = calibration.search(toy, profile="quick", logdir=tmp_path / "search",
                               log=lambda line: None)
    assert table["targets"] == ["a"] and set(table["rows"][0]["values"]) == {"a"}
    toy.calibration = dataclasses.replace(toy.calibration, targets=("a",))
    with pytest.raises(ValueError, match="by_hand names claims that are not targets: b"):
        calibration.search(toy, profile="quick", logdir=tmp_path / "s2", log=lambda line: None)


def test_a_named_search_is_ranked_apart_and_changes_no_role(toy, tmp_path, capsys):
    assert cli.main(["calibrate", "toycal", "--profile", "quick", "--search", "reach_b",
                     "--logdir", str(tmp_path / "reach")]) == 0
    out = capsys.readouterr().out
    assert "Calibration of toycal — search reach_b (grid search, 3 trials of 3 settings" in out
    lines = [line.split() for line in out.splitlines()[3:]]
    # b = 10 SCALE against 10 in units of 5: 0 at SCALE 1, 1 at 0.5, 2 at 2.0
    assert [(row[1], row[2]) for row in lines] == [("SCALE=1.0", "0"), ("SCALE=0.5", "1"),
                                                   ("SCALE=2.0", "2")]
    assert cli.main(["calibrate", "toycal", "--search", "nope"]) == 2
    assert "declares no search 'nope'; valid: reach_b" in capsys.readouterr().err
    roles = {r["id"]: r["role"] for r in toy.run(profile="quick", logdir=tmp_path / "plain")[
        "headlines"]}
    assert roles == {"a": "calibrated", "b": "held out"}


def test_a_grid_runs_trials_side_by_side_with_the_same_ranking(toy, tmp_path):
    from tfdl.harness import runner as runners

    def ranking(**kw):
        table = calibration.search(toy, profile="quick", log=lambda line: None, **kw)
        return [(r["setting"], r["score"]) for r in table["rows"]]

    one_by_one = ranking(logdir=tmp_path / "serial")
    side_by_side = ranking(logdir=tmp_path / "parallel", runner=runners.ProcessPool(1),
                           parallel=3)
    assert side_by_side == one_by_one and len(one_by_one) == 6
    with pytest.raises(ValueError, match="worker processes"):
        calibration.search(toy, profile="quick", logdir=tmp_path / "x", parallel=2)


def test_confirm_reruns_the_best_settings_on_the_whole_protocol(toy, tmp_path, capsys):
    assert cli.main(["calibrate", "toycal", "--profile", "quick", "--confirm", "2"]) == 2
    assert "no finished search" in capsys.readouterr().err
    assert cli.main(["calibrate", "toycal", "--profile", "quick"]) == 0
    capsys.readouterr()
    assert cli.main(["calibrate", "toycal", "--profile", "quick", "--confirm", "2",
                     "--seeds", "2"]) == 0
    out, err = capsys.readouterr()
    lines = [line.split() for line in out.splitlines()[2:]]
    # best: SCALE=0.5, OFFSET=1 hits a = 2 but b = 5 misses 10 ± 10 % (held out: 0/1); second:
    # the script's own values, its plain protocol in the usual folder: both hold
    assert lines[0][:4] == ["1", "SCALE=0.5,", "OFFSET=1", "0"]
    assert lines[0][-2:] == ["1/2", "0/1"]
    assert lines[1][:4] == ["2", "SCALE=1.0,", "OFFSET=0", "0"]
    assert lines[1][-2:] == ["2/2", "1/1"]
    # the held-out headline under each setting, with its value: where it fails, how close
    held_out = out.split("Held-out headlines under each setting")[1].splitlines()
    assert held_out[2].split() == ["b", "10", "±10%", "5", "±", "0", "(FAIL)", "10", "±", "0",
                                   "(PASS)"]
    assert "(the script's own) -> logs/toycal-quick" in err
    from tfdl.harness.experiment import modifications
    plain = json.loads((tmp_path / "logs" / "toycal-quick" / "results.json").read_text())
    assert plain["seeds"] == [0, 1] and modifications(plain) == {}


def test_an_unfinished_search_keeps_its_ranking_so_far_and_cannot_be_confirmed(toy, capsys):
    from tfdl.harness import calibration as cal

    seen = []

    def stop_after_two(line):
        seen.append(line)
        if sum(" done: " in seen_line for seen_line in seen) == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        cal.search(toy, profile="quick", log=stop_after_two)
    partial = json.loads((cal.search_dir("toycal", "quick") / "calibration.json").read_text())
    assert partial["complete"] is False and partial["trials"] == 2
    assert "grid search, unfinished, 2 trials of 6 settings" in cal.format_ranking(partial)
    assert cli.main(["calibrate", "toycal", "--profile", "quick", "--confirm", "1"]) == 2
    assert "no finished search in logs/toycal-calibrate-quick (2 of 6 trials)" in (
        capsys.readouterr().err)


def test_a_search_is_committed_and_shown_in_the_readme(toy, tmp_path, capsys):
    from tfdl.harness import results

    assert cli.main(["calibrate", "toycal", "--profile", "quick"]) == 0
    assert cli.main(["calibrate", "toycal", "--profile", "quick", "--confirm", "1"]) == 0
    assert cli.main(["record", "logs/toycal-calibrate-quick", "--to", "committed"]) == 0
    assert "wrote committed/calibration/toycal.json" in capsys.readouterr().out
    saved = results.load_calibrations("committed/calibration")
    readme = "intro\n<!-- calibration: toycal -->\nold\n<!-- /calibration -->\nend\n"
    text, changed = results.sync(readme, {}, calibrations=saved)
    assert changed == ["calibration: toycal"]
    block = text.split("<!-- calibration: toycal -->\n")[1].split("<!-- /calibration -->")[0]
    assert "Calibration of toycal (grid search, 6 trials of 6 settings" in block
    assert "| 1 | SCALE=0.5, OFFSET=1 | 0 |" in block
    assert "Best 1 settings of toycal's calibration" in block and "| 0/1 |" in block
    # a held-out headline that no confirmed setting reproduces: the closest value reached
    assert ("hold under none of the 1 settings, and the run closest to the report among their "
            "3 (profile quick)" in block and "- `b`: 5 (setting 1, seed 0) vs reported 10 (±10%)"
            in block)
    short = results.calibration_block(saved["toycal"], shown=2)
    assert "The other 4 trials are in the file." in short


def test_the_closest_run_is_nearest_the_reported_number_or_the_stated_bound():
    from tfdl.harness import calibration as cal

    def row(values, verdicts=None, reported="fails", tolerance="≤ 0.2"):
        verdicts = verdicts or ["FAIL"] * len(values)
        per_seed = [{"seed": k, "value": v, "verdict": d}
                    for k, (v, d) in enumerate(zip(values, verdicts))]
        passed = verdicts.count("PASS") >= 2
        return {"id": "z", "reported": reported, "tolerance": tolerance, "seeds": 3,
                "verdict": "PASS" if passed else "FAIL", "reproduced": sum(values) / 3,
                "std": 0.01, "measured": 3, "counts": None, "per_seed": per_seed}

    def out(*held_out):
        return {"report": "toy", "profile": "full", "seeds": 3,
                "search": {"method": "grid", "trials": 2, "space_size": 2},
                "rows": [{"setting": {"A": i}, "search_score": 1.0, "score": 1.0,
                          "headlines": "0/1", "held_out": "0/1", "held_out_claims": {"z": r}}
                         for i, r in enumerate(held_out)]}

    text = cal.format_confirmation(out(row([0.3, 0.31, 0.29]), row([0.26, 0.24, 0.25]),
                                       row([0.4, 0.4, 0.4])))
    assert "hold under none of the 3 settings, and the run closest to the report among " \
           "their 9 (profile full)" in text
    assert "`z`: 0.24 (setting 2, seed 1) vs reported fails (≤ 0.2)" in text
    # a printed number: the run nearest it, whichever side
    wide = dict(reported=20_000, tolerance="in [10000, 40000]")
    text = cal.format_confirmation(out(row([81_000, 45_000, 44_000], **wide),
                                       row([69_000, 39_000, 0], **wide)))
    assert "`z`: 39,000 (setting 2, seed 1) vs reported 20,000 (in [10000, 40000])" in text
    # a headline that holds under some setting has no line
    assert "closest" not in cal.format_confirmation(
        out(row([0.3, 0.3, 0.3]), row([0.1, 0.1, 0.3], ["PASS", "PASS", "FAIL"])))
