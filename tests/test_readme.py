"""The README's result tables are generated from the committed records (results/*.json)."""

import copy
import json
from pathlib import Path

from tfdl.harness import claims, results
from tfdl.harness.experiment import evaluate_claims

import pytest

ROOT = Path(__file__).resolve().parents[1]
RECORDS = sorted((ROOT / "results").glob("*.json"))


@pytest.mark.parametrize("path", RECORDS, ids=[p.stem for p in RECORDS])
def test_readme_block_is_generated_from_the_committed_record(path):
    readme = (ROOT / "README.md").read_text()
    records = results.load_records(ROOT / "results")
    name = json.loads(path.read_text())["report"]
    assert f"<!-- results: {name} -->" in readme, f"README has no block for {name}"
    synced, _ = results.sync(readme, records)
    assert results.without_stale(synced) == results.without_stale(readme), (
        f"README's {name} block differs from results/{path.name}: run `tfdl readme`")


def test_readme_summary_and_notes_are_generated_from_the_committed_records():
    readme = (ROOT / "README.md").read_text()
    assert "<!-- results-summary -->" in readme
    for template in (ROOT / "docs" / "notes").glob("*.md"):
        assert f"<!-- notes: {template.stem} -->" in readme, template.name
    records = results.load_records(ROOT / "results")
    calibrations = results.load_calibrations(ROOT / results.CALIBRATION_FOLDER)
    for name in calibrations:
        assert f"<!-- calibration: {name} -->" in readme, f"README has no block for {name}"
    synced, _ = results.sync(readme, records, results.report_titles(), ROOT / "docs" / "notes",
                             calibrations, results.load_speed(ROOT / results.SPEED_FILE))
    assert results.without_stale(synced) == results.without_stale(readme), (
        "README's summary table, notes, calibration or speed tables differ from results/: run "
        "`tfdl readme`")


def _record():
    claim = claims.Claim("a.acc", "accuracy", "a", reported=0.9, quote="0.9",
                         value=lambda m: m["acc"], check=claims.within(0.9, 0.05))
    record = {"schema_version": 2, "report": "toy", "title": "Toy", "profile": "full",
              "seeds": [0, 1, 2], "machine": "x86_64, 2 CPU cores, no GPU",
              "versions": {"tensorflow": "2.21.0", "keras": "3.15.1"},
              "command": "toy.py --seeds 3", "started": "2026-11-26T10:00:00+00:00",
              "experiments": {"a": {str(s): {"metrics": {"acc": a, "curve": [1, 2]},
                                             "wall_s": 1.0, "fingerprint": "f"}
                                    for s, a in enumerate((0.88, 0.91, 0.80))}}}
    record["headlines"] = evaluate_claims([claim], record)
    return record


def test_compact_record_keeps_claims_and_provenance_not_curves():
    small = results.compact(_record())
    assert small["experiments"]["a"]["0"] == {"wall_s": 1.0, "fingerprint": "f"}
    assert [s["value"] for s in small["headlines"][0]["per_seed"]] == [0.88, 0.91, 0.80]


def test_sync_rewrites_only_blocks_with_a_record_and_ignores_stale_marks():
    record = _record()
    readme = ("intro\n<!-- results: toy -->\nold table\n<!-- /results -->\n"
              "<!-- results: other -->\nkept\n<!-- /results -->\n")
    text, changed = results.sync(readme, {"toy": record})
    assert changed == ["toy"] and "kept" in text and "old table" not in text
    assert "| a.acc: accuracy | 0.9 | 0.8633 ± 0.057 | ±0.05 | PASS 2/3, FAIL 1/3 | PASS |" in text
    assert "toy.py --seeds 3" in text
    assert results.sync(text, {"toy": record}) == (text, [])
    stale = copy.deepcopy(record)
    stale["headlines"][0]["stale"] = True
    marked, changed = results.sync(text, {"toy": stale})
    assert changed == ["toy"] and "PASS STALE" in marked
    assert results.without_stale(marked) == results.without_stale(text)


def test_summary_counts_each_kind_and_notes_take_their_numbers_from_the_record():
    record = _record()
    table = results.summary_table({"toy": record}, {"toy": ("007", "Toy", ["a", "b"]),
                                                    "none": ("001", "N")})
    lines = table.splitlines()
    assert lines[2].startswith("| 001 N | `none.py` | none yet")  # by report number
    assert lines[3] == ("| 007 Toy | `toy.py` | 3 seeds, profile full, "
                        "[results/toy.json](results/toy.json) (not in it: b) | 1/1 | — | — |")
    assert results.notes("a ({a.acc}) b", record) == "a (0.88 / 0.91 / 0.8) b"
    with pytest.raises(KeyError, match="no claim 'a.typo'"):
        results.notes("{a.typo}", record)
    readme = "<!-- results-summary -->\nold\n<!-- /results-summary -->\n"
    text, changed = results.sync(readme, {"toy": record}, {"toy": ("007", "Toy")})
    assert changed == ["summary"] and "| 007 Toy |" in text and "stale table" not in text


def test_speed_table_is_generated_from_the_benchmark_record():
    def entry(title, tfdl, day, commit, load):
        return {"rows": [{"title": title, "seconds": {"tfdl": tfdl, "reference": 200.0},
                          "floor_s": 150.0, "peak_gflops": 170.0, "load": 0.1}],
                "started": f"2026-11-{day}T09:00:00+00:00", "commit": commit,
                "load_at_start": load, "wall_s": 500.0}

    record = {"kind": "speed", "look": False, "machine": "x86_64, 2 CPU cores, no GPU",
              "versions": {"tensorflow": "2.21.0", "keras": "3.15.1", "numpy": "2.4.6"},
              "benchmarks": {"a": entry("004 lr part", 220.0, 28, "abc1234", 0.05),
                             "b": entry("003 grid", 300.0, 29, "def5678", 0.2)}}
    readme = "# Speed\n<!-- speed -->\nNo record yet.\n<!-- /speed -->\nmore\n"
    text, changed = results.sync(readme, {}, speed=record)
    assert changed == ["speed"] and "No record yet" not in text and text.endswith("more\n")
    assert "| 004 lr part | 220.0 s | 200.0 s | 1.10× | 68%, 75% | 0.1 |\n| 003 grid |" in text
    assert ("full protocol; 2 benchmark(s), measured 2026-11-28 to 2026-11-29 on x86_64, 2 CPU "
            "cores") in text
    assert "commit abc1234, def5678; load average at a benchmark's start ≤ 0.20" in text
    assert results.sync(text, {}, speed=record) == (text, [])  # regenerating changes nothing
    assert results.sync(readme, {}) == (readme, [])  # without a record the block stays
    look = results.speed_block({**record, "look": True})
    assert look.split("\n")[-2].startswith("each benchmark's quick look, not the full protocol")
