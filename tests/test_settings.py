"""`--set NAME=VALUE`: Inferred constants and profile keys, checked, recorded as a modified run."""

import json

from tfdl.harness import cli, settings

import pytest

SCRIPT = '''
"""Toy report."""
from tfdl.harness.claims import Claim, within
from tfdl.harness.experiment import Report

# ## From the report
REPORTED = 1.0

# ## Inferred (not in the report)
# The scale nobody states.
SCALE = 1.0
HIDDEN, LABEL = [4], "x"
LOSS = len  # a function: not settable from the command line
TOLERANCE = 0.1  # a claim's bar: read while the script loads, not settable
STEPS = 3  # read into the profile while the script loads: `steps` is the knob

QUICK = {"steps": STEPS}  # a profile: its keys are settable, not the dict
PROFILES = {"quick": QUICK}
REPORT = Report("toyset", report_file="none.txt", title="Toy", profiles=PROFILES)


@REPORT.experiment
def only(ctx):
    """Returns the scale and the steps."""
    return {"value": SCALE * ctx.config["steps"] / 3, "hidden": HIDDEN}


REPORT.claim(Claim("only.value", "value", "only", reported=REPORTED, quote="1.0",
                   value=lambda m: m["value"], check=within(REPORTED, TOLERANCE)))
'''


@pytest.fixture
def toy(add_reproduction):
    add_reproduction("toyset", SCRIPT)
    return cli.load_report("toyset")


def test_settable_names_are_the_inferred_constants_and_profile_keys(toy):
    assert settings.inferred_names(toy.script) == [
        "SCALE", "HIDDEN", "LABEL", "LOSS", "TOLERANCE", "STEPS", "QUICK"]
    assert settings.settable(toy, "quick") == {"SCALE": 1.0, "HIDDEN": [4], "LABEL": "x",
                                               "steps": 3}


def test_bad_settings_are_one_line_errors(toy, capsys):
    with pytest.raises(settings.SettingError, match="valid: HIDDEN, LABEL, SCALE, steps"):
        settings.parse(toy, "quick", ["REPORTED=2"])  # the report's own number
    with pytest.raises(settings.SettingError, match="expected a float like 1.0"):
        settings.parse(toy, "quick", ["SCALE=big"])
    with pytest.raises(settings.SettingError, match="NAME=VALUE"):
        settings.parse(toy, "quick", ["SCALE"])
    assert settings.parse(toy, "quick", ["SCALE=2", "HIDDEN=[8, 8]", "LABEL=y"]) == {
        "SCALE": 2.0, "HIDDEN": [8, 8], "LABEL": "y"}
    for name in ("TOLERANCE", "STEPS"):  # a run could not change what loading already read
        with pytest.raises(settings.SettingError, match=f"--set {name}: toyset reads it while "
                                                        "it loads .*valid: HIDDEN, LABEL, SCALE"):
            settings.parse(toy, "quick", [f"{name}=0.2"])
    assert cli.main(["run", "toyset", "--profile", "quick", "--set", "LOSS=3"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--set LOSS: not a setting of toyset" in err


def test_a_modified_run_is_recorded_apart_and_says_so(toy, tmp_path, capsys):
    assert cli.main(["run", "toyset", "--profile", "quick", "--jobs", "1"]) == 0
    capsys.readouterr()
    code = cli.main(["run", "toyset", "--profile", "quick", "--jobs", "1",
                     "--set", "SCALE=2", "--set", "steps=6"])
    assert code == 1  # 4.0 is no longer the report's 1.0
    out = capsys.readouterr().out
    assert "MODIFIED PROTOCOL (--set SCALE=2.0 steps=6): not a reproduction" in out
    [modified] = (tmp_path / "logs").glob("toyset-quick-set-*")
    record = json.loads((modified / "results.json").read_text())
    assert record["overrides"] == {"SCALE": 2.0, "steps": 6}
    assert record["config"] == {"steps": 6}  # the profile as it ran
    assert record["experiments"]["only"]["0"]["metrics"]["value"] == 4.0
    plain = json.loads((tmp_path / "logs" / "toyset-quick" / "results.json").read_text())
    assert plain["overrides"] == {} and plain["headlines"][0]["verdict"] == "PASS"
    assert plain["config"] == {"steps": 3}
    assert toy.globals["SCALE"] == 1.0  # restored after the run
