"""The harness: results record, resume, divergence, claims, table, CLI errors."""

import json
import math
import subprocess
import sys

import numpy as np
import pytest

from tfdl import claims, cli, training
from tfdl.experiment import Report, write_json_atomic
from tfdl.models import mlp
from tfdl.stats import downsample, mean_nested, spearman, step_noise
from tfdl.table import format_markdown, format_table


def _toy_report(calls):
    report = Report("toy", report_file="none.txt", title="Toy report",
                    profiles={"full": {"lr": 0.1}, "quick": {"lr": 0.1}})

    @report.experiment
    def first(ctx):
        """Always returns the seed."""
        calls.append(("first", ctx.seed))
        return {"value": 0.5 + ctx.seed, "label": "x"}

    @report.experiment
    def second(ctx):
        """Diverges: a huge learning rate on exploding inputs."""
        calls.append(("second", ctx.seed))
        x = np.full((32, 4), 1e6, np.float32)
        y = np.arange(32) % 2
        model = training.compile_model(mlp(4, [], 2), learning_rate=1e30)
        result = training.train(model, x, y, batch_size=8, steps=20)
        return {"diverged": result.diverged, **training.evaluate(model, x, y)}

    report.claim(
        claims.Claim("first.value", "value near 1", "first", reported=1.0,
                     value=lambda m: m["value"], check=claims.within(1.0, 0.01)),
        claims.Claim("second.diverges", "huge lr diverges", "second", reported="diverges",
                     value=lambda m: m["diverged"], check=claims.is_true()),
        claims.Claim("second.accuracy", "accuracy of the diverged run", "second", reported=1.0,
                     value=lambda m: m["accuracy"], check=claims.at_least(0.5)),
    )
    return report


def test_seeds_are_averaged_and_resume_skips_recorded_runs(tmp_path):
    calls = []
    report = _toy_report(calls)
    record = report.run(profile="quick", seeds=2, logdir=tmp_path)
    assert calls == [("first", 0), ("first", 1), ("second", 0), ("second", 1)]
    rows = {r["id"]: r for r in record["headlines"]}
    assert rows["first.value"]["reproduced"] == pytest.approx(1.0)  # mean of 0.5 and 1.5
    assert rows["first.value"]["std"] == pytest.approx(math.sqrt(0.5))
    assert rows["first.value"]["passed"]
    # a diverged run is recorded as such, its accuracy as missing: the claim fails
    assert rows["second.diverges"]["passed"]
    assert rows["second.accuracy"]["reproduced"] is None and not rows["second.accuracy"]["passed"]

    calls.clear()
    report.run(profile="quick", seeds=3, logdir=tmp_path)
    assert calls == [("first", 2), ("second", 2)]  # seeds 0 and 1 were recorded
    saved = json.loads((tmp_path / "results.json").read_text())
    assert saved["seeds"] == [0, 1, 2] and saved["profile"] == "quick"
    assert {"tensorflow", "keras"} <= set(saved["versions"])
    assert saved["experiments"]["first"]["0"]["wall_s"] >= 0

    calls.clear()
    report.run(profile="full", seeds=1, logdir=tmp_path)  # another profile starts afresh
    assert calls == [("first", 0), ("second", 0)]


def test_interrupted_run_keeps_finished_experiments(tmp_path):
    calls = []
    report = _toy_report(calls)

    def interrupted(ctx):
        raise KeyboardInterrupt

    report.experiments["second"].fn = interrupted
    with pytest.raises(KeyboardInterrupt):
        report.run(profile="quick", logdir=tmp_path)
    saved = json.loads((tmp_path / "results.json").read_text())
    assert list(saved["experiments"]) == ["first"]


def test_two_runs_sharing_a_logdir_keep_each_others_results(tmp_path):
    calls = []
    report = _toy_report(calls)
    other = _toy_report(calls)
    original = report.experiments["first"].fn

    def first_while_another_run_records_second(ctx):
        other.run(profile="quick", only=["second"], logdir=tmp_path)  # a second process
        return original(ctx)

    report.experiments["first"].fn = first_while_another_run_records_second
    record = report.run(profile="quick", only=["first"], logdir=tmp_path)
    saved = json.loads((tmp_path / "results.json").read_text())
    assert set(saved["experiments"]) == {"first", "second"}
    assert {r["id"] for r in record["headlines"]} == {"first.value", "second.diverges",
                                                      "second.accuracy"}
    report.experiments["first"].fn = original
    report.run(profile="quick", fresh=True, only=["first"], logdir=tmp_path)
    saved = json.loads((tmp_path / "results.json").read_text())
    assert list(saved["experiments"]) == ["first"]  # --fresh drops what was recorded


def test_results_json_survives_a_kill_mid_write(tmp_path):
    path = tmp_path / "results.json"
    write_json_atomic(path, {"version": 1})
    script = (
        "import os, sys\n"
        "from tfdl.experiment import write_json_atomic\n"
        "class Boom:\n"
        "    pass\n"
        "import json\n"
        "orig = json.dump\n"
        "def dying(obj, f, **kw):\n"
        "    f.write('{\"version\": 2, \"trunc')\n"
        "    f.flush()\n"
        "    os._exit(9)\n"
        "json.dump = dying\n"
        f"write_json_atomic({str(path)!r}, {{'version': 2}})\n"
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True)
    assert proc.returncode == 9
    assert json.loads(path.read_text()) == {"version": 1}


def test_claim_checks():
    assert claims.within(0.93, 0.02)(0.945) and not claims.within(0.93, 0.02)(0.96)
    assert claims.within_relative(2.0, 0.1)(2.19) and not claims.within_relative(2.0, 0.1)(2.3)
    assert claims.at_most(-0.8)(-0.9) and not claims.at_most(-0.8)(-0.5)
    assert claims.between(10_000, 40_000)(20_000) and not claims.between(1, 2)(3)
    assert claims.equals(1560)(1560) and not claims.equals(1560)(1559)
    assert claims.is_true()(True) and not claims.is_true()(1)
    assert not claims.at_least(0)(None) and not claims.at_least(0)(float("nan"))


def test_stats():
    assert spearman([1, 2, 3, 4], [10, 20, 30, 40]) == pytest.approx(1.0)
    assert spearman([1, 2, 3, 4], [4, 3, 2, 1]) == pytest.approx(-1.0)
    assert step_noise([1, 1, 1, 1, 1]) == 0.0
    assert step_noise([0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0], skip=0) == pytest.approx(1.0)
    assert mean_nested([{"a": [1.0, 2.0], "b": "x"}, {"a": [3.0, 4.0], "b": "y"}]) == \
        {"a": [2.0, 3.0], "b": "x"}
    assert mean_nested([{"a": 1.0}, {"a": None}]) == {"a": None}
    assert downsample([1, 2, 3, 4, 5, 6], points=3) == [[2, 4, 6], [1.5, 3.5, 5.5]]
    assert downsample([7, 8], points=500) == [[1, 2], [7.0, 8.0]]


def test_table_formats_rows(tmp_path):
    record = {"title": "T", "report": "r", "profile": "quick", "seeds": [0, 1],
              "headlines": [{"id": "a", "claim": "c", "reported": 0.9277, "reproduced": 0.93,
                             "std": 0.004, "tolerance": "±0.02", "passed": True, "note": ""},
                            {"id": "b", "claim": "d", "reported": 1_342_578_688,
                             "reproduced": 668_672, "std": None, "tolerance": "= 668,672",
                             "passed": False, "note": "the report's count is wrong"}]}
    text = format_table(record)
    assert "0.93 ± 0.004" in text and "1,342,578,688" in text and "FAIL" in text
    assert "b: the report's count is wrong" in text and "1/2 headlines hold" in text
    markdown = format_markdown({**record, "experiments": {"e": {"0": {"wall_s": 12.4}}}})
    assert "| a: c | 0.9277 | 0.93 ± 0.004 | ±0.02 | PASS |" in markdown
    assert "| b: d | 1,342,578,688 | 668,672 | = 668,672 | FAIL |" in markdown
    assert "1/2 headlines hold" in markdown and "e 12 s" in markdown


def test_cli_errors_are_one_line_with_exit_2(tmp_path, capsys):
    report = _toy_report([])
    assert report.main(["--only", "nope", "--logdir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "unknown experiment nope; valid: first, second" in err
    assert report.main(["--data-dir", str(tmp_path / "missing")]) == 2
    with pytest.raises(SystemExit) as exit_info:
        report.main(["--seeds", "0"])
    assert exit_info.value.code == 2
    assert cli.main(["run", "no_such_report"]) == 2
    assert "unknown report 'no_such_report'" in capsys.readouterr().err
    assert cli.main(["frobnicate"]) == 2
    assert cli.main(["report", str(tmp_path / "nothing.json")]) == 2


def test_cli_report_prints_table(tmp_path, capsys):
    report = _toy_report([])
    assert report.main(["--logdir", str(tmp_path)]) == 1  # one claim fails by design
    out = capsys.readouterr().out
    assert "first.value" in out and "FAIL" in out
    assert cli.main(["report", str(tmp_path / "results.json")]) == 0
    assert "1/3 headlines hold" in capsys.readouterr().out  # seed 0 gives 0.5, not 1
