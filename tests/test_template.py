"""A new report starts from reproductions/_template.py and runs through the command line."""

import json
from pathlib import Path

from tfdl.harness import cli

TEMPLATE = Path(__file__).resolve().parents[1] / "reproductions" / "_template.py"


def test_the_template_runs_as_a_new_report(tmp_path, add_reproduction, capsys):
    source = TEMPLATE.read_text().replace('Report("_template"', 'Report("newreport"')
    add_reproduction("newreport", source)
    add_reproduction("_template", TEMPLATE.read_text())  # skipped: starts with "_"

    assert cli.main(["list"]) == 0
    listed = capsys.readouterr().out
    assert "newreport: <Report title>" in listed and "_template" not in listed
    assert "accuracy" in listed

    code = cli.main(["run", "newreport", "--profile", "quick", "--jobs", "1"])
    out = capsys.readouterr().out
    assert code == 1  # the quick profile checks no headline: nothing can "hold"
    assert "accuracy.params" in out and "1/1 protocol checks hold" in out
    record = json.loads((tmp_path / "logs" / "newreport-quick" / "results.json").read_text())
    run = record["experiments"]["accuracy"]["0"]["metrics"]
    assert 0.5 < run["final"]["test"]["accuracy"] <= 1
    assert record["config"] == {"train_examples": 2_000, "epochs": 1}
    assert (tmp_path / "logs" / "newreport-quick" / "fig1_val_loss.png").is_file()

    assert cli.main(["report", "--markdown", "logs/newreport-quick"]) == 0
    assert "| accuracy.params: parameters of the network we build |" in capsys.readouterr().out
