"""The harness: results record, resume, fingerprint, run directories, figures, CLI."""

import json
import math
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

from tfdl import training
from tfdl.analysis.stats import downsample, mean_nested, spearman, step_noise
from tfdl.harness import claims, cli, experiment, runner
from tfdl.harness.claims import Claim, NotRun, within
from tfdl.harness.experiment import Report, all_hold, write_json_atomic
from tfdl.harness.fingerprint import code_fingerprint
from tfdl.harness.table import format_table
from tfdl.models import mlp

import numpy as np
import pytest


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
                     value=lambda m: m["diverged"], check=claims.is_true(),
                     diverged=lambda m: False),
        claims.Claim("second.accuracy", "accuracy of the diverged run", "second", reported=1.0,
                     value=lambda m: m["accuracy"], check=claims.at_least(0.5)),
    )
    return report


def test_claims_are_checked_per_seed_and_resume_skips_recorded_runs(tmp_path):
    calls = []
    report = _toy_report(calls)
    record = report.run(profile="quick", seeds=2, logdir=tmp_path)
    assert calls == [("first", 0), ("first", 1), ("second", 0), ("second", 1)]
    assert record["schema_version"] == 2 and record["fingerprint"] == report.fingerprint()
    rows = {r["id"]: r for r in record["headlines"]}
    first = rows["first.value"]
    assert first["reproduced"] == pytest.approx(1.0)  # mean of 0.5 and 1.5
    assert first["std"] == pytest.approx(math.sqrt(0.5))
    # each seed misses 1.0 ± 0.01: the mean would pass, the seeds do not
    assert [s["verdict"] for s in first["per_seed"]] == ["FAIL", "FAIL"]
    assert first["verdict"] == "FAIL"
    # a divergence the claim asks for is measured; a diverged run's accuracy is not
    assert rows["second.diverges"]["verdict"] == "PASS"
    assert rows["second.accuracy"]["verdicts"] == {"diverged": 2}
    assert rows["second.accuracy"]["reproduced"] is None
    assert rows["second.accuracy"]["verdict"] == "FAIL"

    calls.clear()
    report.run(profile="quick", seeds=3, logdir=tmp_path)
    assert calls == [("first", 2), ("second", 2)]  # seeds 0 and 1 were recorded
    saved = json.loads((tmp_path / "results.json").read_text())
    assert saved["seeds"] == [0, 1, 2] and saved["profile"] == "quick"
    assert {"tensorflow", "keras"} <= set(saved["versions"])
    assert saved["experiments"]["first"]["0"]["wall_s"] >= 0

    calls.clear()
    with pytest.raises(ValueError, match="holds the quick profile's record of toy.*--fresh"):
        report.run(profile="full", seeds=1, logdir=tmp_path)  # would replace the quick record
    assert calls == [] and json.loads((tmp_path / "results.json").read_text()) == saved
    report.run(profile="full", seeds=1, logdir=tmp_path, fresh=True)  # replaces it
    assert calls == [("first", 0), ("second", 0)]


def test_a_quick_run_never_replaces_the_full_runs_record(tmp_path, add_reproduction,
                                                         monkeypatch, capsys):
    add_reproduction("toy", TOY_SCRIPT.replace('profiles={"quick": {}}',
                                               'profiles={"full": {}, "quick": {}}'))
    monkeypatch.chdir(tmp_path)
    assert cli.main(["run", "toy"]) == 0
    full = json.loads((tmp_path / "logs" / "toy" / "results.json").read_text())
    assert cli.main(["run", "toy", "--profile", "quick"]) == 0
    assert json.loads((tmp_path / "logs" / "toy" / "results.json").read_text()) == full
    quick = tmp_path / "logs" / "toy-quick"
    assert json.loads((quick / "results.json").read_text())["profile"] == "quick"
    capsys.readouterr()
    assert cli.main(["run", "toy", "--logdir", str(quick)]) == 2  # full profile, quick record
    err = capsys.readouterr().err
    assert f"error: {quick / 'results.json'} holds the quick profile's record of toy" in err
    assert "Traceback" not in err


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
        "from tfdl.harness.experiment import write_json_atomic\n"
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


def test_help_lists_experiments_in_one_column_however_long_their_names(capsys):
    report = Report("toy", report_file="none.txt", title="toy", profiles={"full": {}})

    @report.experiment
    def a_rather_long_experiment_name(ctx):
        """The long one."""

    @report.experiment
    def short(ctx):
        """The short one."""

    with pytest.raises(SystemExit):
        report.main(["--help"])
    out = capsys.readouterr().out
    columns = {line.index("The ") for line in out.splitlines() if line.endswith(" one.")}
    assert len(columns) == 1 and columns.pop() > len("  a_rather_long_experiment_name")


def test_cli_report_prints_table(tmp_path, capsys):
    report = _toy_report([])
    assert report.main(["--logdir", str(tmp_path), "--jobs", "1"]) == 1  # two claims fail
    out = capsys.readouterr().out
    assert "first.value" in out and "FAIL" in out
    assert cli.main(["report", str(tmp_path / "results.json")]) == 0
    assert "1/3 headlines hold" in capsys.readouterr().out  # seed 0 gives 0.5, not 1


TOY_SCRIPT = """
from tfdl.harness.claims import Claim, within
from tfdl.harness.experiment import Report

SCALE = 1.0
REPORT = Report("toy", report_file="none.txt", title="Toy", profiles={"quick": {}})


@REPORT.experiment
def only(ctx):
    \"\"\"Writes an event-like file into its run directory.\"\"\"
    run_dir = ctx.run_dir("a")
    (run_dir / f"events.{len(list(run_dir.iterdir()))}").write_text("x")
    if ctx.options.get("interrupt"):
        raise KeyboardInterrupt
    return {"value": SCALE}


REPORT.claim(Claim("only.value", "value", "only", reported=1.0, quote="1.0",
                   value=lambda m: m["value"], check=within(1.0, 0.1)))
"""


@pytest.fixture
def toy_script(add_reproduction):
    return add_reproduction("toy", TOY_SCRIPT)


def test_a_changed_script_reruns_and_old_rows_show_stale(tmp_path, toy_script, capsys):
    logdir = tmp_path / "logs"
    cli.load_report("toy").run(profile="quick", logdir=logdir)
    before = json.loads((logdir / "results.json").read_text())
    assert cli.main(["report", str(logdir)]) == 0
    assert "STALE" not in capsys.readouterr().out
    toy_script.write_text(TOY_SCRIPT.replace("SCALE = 1.0", "SCALE = 2.0"))
    assert cli.main(["report", str(logdir)]) == 0
    assert "FAIL" not in (out := capsys.readouterr().out) and "only.value" in out
    assert "PASS STALE" in out and "1 rows STALE" in out
    record = cli.load_report("toy").run(profile="quick", logdir=logdir)  # recomputes
    assert record["experiments"]["only"]["0"]["metrics"]["value"] == 2.0
    assert record["fingerprint"] != before["fingerprint"]
    assert "recorded with other code or settings, rerunning" in capsys.readouterr().err


def test_report_evaluates_the_claims_on_the_results_as_they_are_now(tmp_path, toy_script,
                                                                   capsys):
    # A run evaluates its claims when its last unit ends: one stopped between units has new
    # results under rows evaluated before them; `tfdl report` shows the new results.
    logdir = tmp_path / "logs"
    cli.load_report("toy").run(profile="quick", logdir=logdir)
    path = logdir / "results.json"
    record = json.loads(path.read_text())
    record["experiments"]["only"]["0"]["metrics"]["value"] = 3.0  # a unit that ended later
    path.write_text(json.dumps(record))
    assert cli.main(["report", str(logdir)]) == 0
    out = capsys.readouterr().out
    assert "0/1 headlines hold" in out and " 3 " in out  # 1/1 from the rows as evaluated


def test_the_record_names_the_run_that_computed_its_newest_results(tmp_path, toy_script,
                                                                   monkeypatch):
    logdir = tmp_path / "logs"
    monkeypatch.setattr(sys, "argv", ["toy.py", "--first"])
    cli.load_report("toy").run(profile="quick", logdir=logdir)
    toy_script.write_text(TOY_SCRIPT.replace("SCALE = 1.0", "SCALE = 2.0"))
    monkeypatch.setattr(sys, "argv", ["toy.py", "--resumed"])
    record = cli.load_report("toy").run(profile="quick", logdir=logdir)  # reruns the unit
    assert record["command"] == "toy.py --resumed"
    monkeypatch.setattr(sys, "argv", ["toy.py", "--nothing-to-do"])
    record = cli.load_report("toy").run(profile="quick", logdir=logdir)  # skips it
    assert record["command"] == "toy.py --resumed"


def test_fingerprint_covers_the_tfdl_sources_the_script_imports(tmp_path):
    package = tmp_path / "tfdl"
    (package / "sub").mkdir(parents=True)
    for path, text in {"__init__.py": "", "sub/__init__.py": "", "other.py": "Z = 1\n",
                       "sub/module.py": "from tfdl import leaf\n", "leaf.py": "X = 1\n",
                       "lazy.py": "W = 1\n"}.items():
        (package / path).write_text(text)
    script = tmp_path / "script.py"
    script.write_text("from tfdl.sub import module\n\ndef f():\n    import tfdl.lazy\n")

    def changes_it(path, text):
        before = code_fingerprint(script, package)
        (package / path).write_text(text)
        return code_fingerprint(script, package) != before

    assert changes_it("sub/module.py", "from tfdl import leaf\nX = 2\n")  # imported
    assert changes_it("leaf.py", "X = 2\n")  # imported by an imported module
    assert changes_it("lazy.py", "W = 2\n")  # imported inside a function
    assert changes_it("sub/__init__.py", "V = 1\n")  # runs on import of sub.module
    assert not changes_it("other.py", "Z = 2\n")  # never imported: the records stay current
    assert changes_it("../script.py", "import tfdl.other\n")
    (package / "harness").mkdir()
    (package / "harness" / "table.py").write_text("from tfdl import shown\n")
    (package / "shown.py").write_text("S = 1\n")
    assert changes_it("../script.py", "import tfdl.harness.table\n")
    # Presentation (experiment._NOT_NUMERIC) computes no number: it and its imports are left out.
    assert not changes_it("harness/table.py", "from tfdl import shown\nT = 2\n")
    assert not changes_it("shown.py", "S = 2\n")
    # Comments and line breaks inside brackets change no number; code and strings do.
    assert changes_it("../script.py", "from tfdl.sub import module  # leaf's X\n")
    assert not changes_it("../script.py", "# the report's net\nfrom tfdl.sub import module\n")
    assert not changes_it("leaf.py", "# why X is 2\nX = 2  # see the report\n")
    assert changes_it("sub/module.py", "from tfdl import leaf\nX = max(2, 1)\n")
    assert not changes_it("sub/module.py", "from tfdl import leaf\nX = max(2,\n        1)\n")
    assert changes_it("leaf.py", "# why X is 2\nX = 3\n")
    assert changes_it("leaf.py", "X = 3\nY = f'{X}'\n")
    assert changes_it("leaf.py", "X = 3\nY = f'{X!r}'\n")
    # Docstrings (statements that are only a string literal) compute nothing.
    assert not changes_it("leaf.py", '"""Leaf: X."""\nX = 3\nY = f\'{X!r}\'\n')
    with_g = 'X = 3\n\n\ndef g():\n    """{}"""\n    return {} * X\n'
    assert changes_it("leaf.py", with_g.format("Twice X.", 2))
    assert not changes_it("leaf.py", with_g.format("Two X.", 2))
    assert changes_it("leaf.py", with_g.format("Two X.", 3))
    assert changes_it("leaf.py", 'X = "3"\n')  # a string that is assigned


def test_rerun_after_an_interruption_starts_from_empty_run_directories(tmp_path, toy_script):
    report = cli.load_report("toy")
    with pytest.raises(KeyboardInterrupt):
        report.run(profile="quick", logdir=tmp_path, options={"interrupt": True})
    run_dir = tmp_path / "only" / "a" / "seed0"
    assert [p.name for p in run_dir.iterdir()] == ["events.0"]
    report.run(profile="quick", logdir=tmp_path)
    assert [p.name for p in run_dir.iterdir()] == ["events.0"]  # one file, the new run's


def test_corrupt_record_is_moved_aside_and_the_record_is_readable(tmp_path, toy_script, capsys):
    (tmp_path / "results.json").write_text('{"report": "toy", "trunc')
    old_umask = os.umask(0o022)
    try:
        cli.load_report("toy").run(profile="quick", logdir=tmp_path)
    finally:
        os.umask(old_umask)
    aside = list(tmp_path.glob("results.json.corrupt-*"))
    assert len(aside) == 1 and aside[0].read_text() == '{"report": "toy", "trunc'
    assert "unreadable; moved to results.json.corrupt-" in capsys.readouterr().err
    assert stat.S_IMODE((tmp_path / "results.json").stat().st_mode) == 0o644


def test_figures_declare_what_they_read_and_their_errors_surface(tmp_path):
    report = _toy_report([])
    drawn = []

    @report.figure("second")
    def needs_second(record, logdir):
        drawn.append("second")

    @report.figure("first")
    def broken(record, logdir):
        raise ValueError("a bug in figure code")

    with pytest.raises(ValueError, match="a bug in figure code"):
        report.run(profile="quick", only=["first"], logdir=tmp_path)
    assert drawn == []  # "second" did not run: its figure is skipped
    with pytest.raises(TypeError, match="names of the experiments"):
        report.figure(lambda record, logdir: None)
    with pytest.raises(ValueError, match="unknown experiment"):
        report.figure("nope")


def test_report_against_a_committed_record(tmp_path, capsys):
    report = _toy_report([])
    report.run(profile="quick", seeds=3, logdir=tmp_path / "record")
    report.run(profile="quick", seeds=1, logdir=tmp_path / "mine")
    record = tmp_path / "record" / "results.json"
    assert cli.main(["report", "--against", str(record), str(tmp_path / "mine")]) == 0
    out = capsys.readouterr().out
    lines = {line.split()[0]: line for line in out.splitlines()[1:] if line.strip()}
    # the record's seeds give 0.5, 1.5, 2.5 (mean 1.5); ours (seed 0) gives 0.5: inside
    assert lines["first.value"].split()[1:] == ["1.5", "±", "1", "0.5,", "1.5,", "2.5", "0.5",
                                                "-1", "yes", "FAIL", "/", "FAIL"]
    assert "n/a" in lines["second.accuracy"]  # diverged on both sides: nothing to compare
    assert "2/2 claims inside the record's seed spread" in out
    assert cli.main(["report", "--against", str(tmp_path / "none.json")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_report_against_reads_your_latest_run_by_default(tmp_path, toy_script, monkeypatch,
                                                         capsys):
    monkeypatch.chdir(tmp_path)
    reference = tmp_path / "reference"
    cli.load_report("toy").run(profile="quick", seeds=2, logdir=reference)
    assert cli.main(["report", "--against", str(reference / "results.json")]) == 2
    assert "error: no run of toy in logs/toy or logs/toy-quick" in capsys.readouterr().err
    assert cli.main(["run", "toy", "--profile", "quick"]) == 0  # lands in logs/toy-quick
    capsys.readouterr()
    assert cli.main(["report", "--against", str(reference / "results.json")]) == 0
    assert "1/1 claims inside the record's seed spread" in capsys.readouterr().out


def test_worker_processes_give_the_in_process_numbers_and_record_failures(tmp_path, toy_script):
    toy_script.write_text(TOY_SCRIPT.replace(
        'return {"value": SCALE}',
        'if ctx.seed == 2:\n        raise ValueError("seed 2 breaks")\n'
        '    import numpy as np\n    return {"value": SCALE, "draw": float(np.random.rand())}'))
    report = cli.load_report("toy")
    local = report.run(profile="quick", seeds=2, logdir=tmp_path / "local", threads=1)
    pooled = report.run(profile="quick", seeds=3, logdir=tmp_path / "pool",
                        runner=runner.ProcessPool(2), threads=1)
    for seed in ("0", "1"):
        assert (pooled["experiments"]["only"][seed]["metrics"]
                == local["experiments"]["only"][seed]["metrics"])
        assert pooled["experiments"]["only"][seed]["threads"] == 1
    assert "2" not in pooled["experiments"]["only"]
    assert "ValueError: seed 2 breaks" in pooled["failures"]["only/2"]["error"]
    assert "1 unit FAILED (only/2: ValueError: seed 2 breaks)" in format_table(pooled)
    assert not all_hold(pooled)


def test_worker_processes_end_with_a_killed_driver():
    code = ("import concurrent.futures, multiprocessing, os, time\n"
            "from tfdl.harness import runner\n"
            "if __name__ == '__main__':\n"
            "    with concurrent.futures.ProcessPoolExecutor(\n"
            "            1, mp_context=multiprocessing.get_context('spawn'),\n"
            "            initializer=runner.exit_with_parent, initargs=(os.getpid(),)) as pool:\n"
            "        print(pool.submit(os.getpid).result(), flush=True)\n"
            "        time.sleep(60)\n")
    driver = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    worker = int(driver.stdout.readline())
    driver.terminate()  # SIGTERM: no shutdown of the pool
    driver.wait(timeout=30)

    def alive():
        try:
            state = Path(f"/proc/{worker}/status").read_text()
        except FileNotFoundError:
            return False
        return "State:\tZ" not in state

    deadline = time.monotonic() + 15
    while alive() and time.monotonic() < deadline:
        time.sleep(0.2)
    if alive():
        os.kill(worker, signal.SIGKILL)
        pytest.fail("the worker outlived its driver by 15 s")


def test_a_pool_starts_the_longest_units_first(tmp_path):
    """Expected wall times come from the run folder's record, else the committed record (by
    seed, else the experiment's mean); units with no time go first, ties keep their order."""
    from types import SimpleNamespace

    from tfdl.harness.unit import Unit

    root = tmp_path / "repo"
    (root / "reproductions").mkdir(parents=True)
    (root / "results").mkdir()
    report = SimpleNamespace(name="toy", script=root / "reproductions" / "toy.py")
    logdir = tmp_path / "logs"
    logdir.mkdir()

    def record(path, times):
        path.write_text(json.dumps({"experiments": {
            name: {seed: {"wall_s": s} for seed, s in by_seed.items()}
            for name, by_seed in times.items()}}))

    record(root / "results" / "toy.json",
           {"short": {"0": 5, "1": 5}, "long": {"0": 100, "1": 300}, "mid": {"0": 50}})
    record(logdir / "results.json", {"short": {"1": 1000}})
    units = [Unit("toy", str(report.script), name, seed, "full", str(logdir), "fp", 1, None, (),
                  "{}")
             for name in ("short", "long", "mid", "new") for seed in (0, 1)]
    order = [(u.experiment, u.seed) for u in runner.longest_first(units, report)]
    assert order == [("new", 0), ("new", 1), ("short", 1), ("long", 1), ("long", 0),
                     ("mid", 0), ("mid", 1), ("short", 0)]
    assert runner.longest_first(units, None) == units


def test_report_options_reach_experiments_and_not_run_rows(tmp_path, capsys):
    report = experiment.Report("opt", report_file="x.txt", title="t",
                               profiles={"full": {}, "quick": {}})
    report.option("--thing-dir", metavar="DIR")

    @report.experiment
    def uses_option(ctx):
        return {"thing": ctx.options["thing_dir"], "value": 1.0}

    report.claim(
        Claim("a.value", "value", "uses_option", reported=1.0, value=lambda m: m["value"],
              check=within(1.0, 0.1)),
        Claim("a.real", "needs the thing", "uses_option", reported=1.0,
              value=lambda m: m["value"] if m["thing"] else NotRun("not run: data not provided"),
              check=within(1.0, 0.1)))
    assert report.main(["--logdir", str(tmp_path / "a")]) == 0
    out = capsys.readouterr().out
    assert "not run: data not provided" in out and "NOT RUN" in out
    assert "1/1 headlines hold (1 not run)" in out
    record = report.run(logdir=tmp_path / "b", options={"thing_dir": "/x"})
    assert record["experiments"]["uses_option"]["0"]["metrics"]["thing"] == "/x"
    assert [r["verdict"] for r in record["headlines"]] == ["PASS", "PASS"] and all_hold(record)
    only_not_run = {"headlines": [{"kind": claims.HEADLINE, "verdict": claims.NOT_RUN}]}
    assert not all_hold(only_not_run)


@pytest.mark.parametrize("command", ["list", "run", "report", "record", "readme"])
def test_every_command_answers_help_with_its_usage(command, capsys):
    assert cli.main([command, "--help"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("usage:\n") and f"    tfdl {command}" in out
    assert all(line.split()[1] == command for line in out.splitlines()
               if line.startswith("    tfdl "))


@pytest.mark.parametrize("command", [["list"], ["readme", "--help"]])
def test_a_closed_pipe_ends_a_command_without_a_traceback(command):
    """`tfdl list | head -1`: the reader goes away; the command ends quietly, exit 1."""
    proc = subprocess.Popen([sys.executable, "-m", "tfdl", *command], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 1
    assert "Traceback" not in err and "BrokenPipeError" not in err, err


SHARED_TOY = """
import os
import time

from tfdl.harness.claims import Claim, within
from tfdl.harness.experiment import Report

REPORT = Report("{name}", report_file="none.txt", title="Toy", profiles={{"quick": {{}}}})


@REPORT.experiment
def only(ctx):
    \"\"\"Notes when it started, then takes half a second.\"\"\"
    started = time.time()
    if "{name}" == "toy_b" and ctx.seed == 1 and os.environ.get("TOY_BREAKS"):
        raise ValueError("toy_b seed 1 breaks")
    time.sleep(0.5)
    return {{"value": 1.0, "started": started}}


REPORT.claim(Claim("only.value", "value", "only", reported=1.0, quote="1.0",
                   value=lambda m: m["value"], check=within(1.0, 0.1)))
"""


def test_run_all_shares_one_local_pool_longest_units_first(add_reproduction, tmp_path, capsys,
                                                           monkeypatch):
    """`tfdl run all --jobs N`: the units of every report wait in one queue (`SharedPool`), the
    longest expected (committed records' wall times) first across reports; a failing unit is
    recorded and the others go on; a rerun skips what was recorded."""
    import threading

    (tmp_path / "results").mkdir()
    # Whichever report queues first, first come first served would not start them longest first.
    expected = {"toy_a": {"0": 10, "1": 100}, "toy_b": {"0": 5, "1": 50}}
    for name, times in expected.items():
        add_reproduction(name, SHARED_TOY.format(name=name))
        (tmp_path / "results" / f"{name}.json").write_text(json.dumps({"experiments": {
            "only": {seed: {"wall_s": s} for seed, s in times.items()}}}))
    # One worker, two reports feeding it from two threads, as `tfdl run all` does.
    pool = runner.SharedPool(1)
    records = {}
    threads = [threading.Thread(target=lambda name=name: records.update({name: cli.load_report(
        name).run(profile="quick", seeds=2, logdir=tmp_path / "one" / name, runner=pool)}))
        for name in expected]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
    finally:
        pool.close()
    # The first unit starts as soon as its report's thread queues it; every later one is the
    # longest of those waiting.
    starts = sorted((e["metrics"]["started"], expected[name][seed])
                    for name, r in records.items() for seed, e in r["experiments"]["only"].items())
    later = [seconds for _, seconds in starts[1:]]
    assert len(later) == 3 and later == sorted(later, reverse=True)

    monkeypatch.setenv("TOY_BREAKS", "1")

    logs = tmp_path / "logs"
    common = ["run", "all", "--profile", "quick", "--seeds", "2", "--logdir", str(logs)]
    assert cli.main([*common, "--jobs", "2"]) == 1  # toy_b's seed 1 failed
    a, b = (json.loads((logs / f"{name}-quick" / "results.json").read_text())
            for name in expected)
    assert sorted(a["experiments"]["only"]) == ["0", "1"] and "failures" not in a
    assert sorted(b["experiments"]["only"]) == ["0"]
    assert "ValueError: toy_b seed 1 breaks" in b["failures"]["only/1"]["error"]
    capsys.readouterr()
    assert cli.main([*common, "--jobs", "1"]) == 1
    err = capsys.readouterr().err
    assert err.count("skipped") == 3 and "toy_b seed 1 breaks" in err


def test_run_all_skips_named_experiments(add_reproduction, tmp_path, capsys):
    """`tfdl run all --skip REPORT:EXPERIMENT`: the named experiments are left out, a report
    with none left is not run, and a wrong name is a one-line error listing the valid ones."""
    for name in ("toy_a", "toy_b"):
        add_reproduction(name, SHARED_TOY.format(name=name))
    logs = tmp_path / "logs"
    common = ["run", "all", "--profile", "quick", "--logdir", str(logs), "--jobs", "1"]
    assert cli.main([*common, "--skip", "toy_b:nothing"]) == 2
    err = capsys.readouterr().err
    assert "unknown experiment toy_b:nothing; valid: toy_a:only, toy_b:only" in err
    assert not logs.exists()
    assert cli.main([*common, "--skip", "toy_b:only"]) == 0
    assert (logs / "toy_a-quick" / "results.json").is_file()
    assert not (logs / "toy_b-quick").exists()
