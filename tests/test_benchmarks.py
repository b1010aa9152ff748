"""benchmarks/all.py: its speed record keeps every finished benchmark and extends, never mixes,
records (the benchmarks themselves are timed by hand, never in tests)."""

import importlib.util
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

FAKE = """
import json, os, sys
row = {"title": sys.argv[0], "seconds": {"tfdl": 2.0, "reference": 1.0}, "floor_s": 0.5,
       "peak_gflops": 100.0, "load": 0.0}
with open(os.environ["TFDL_BENCH_JSON"], "a") as out:
    out.write(json.dumps(row) + "\\n")
sys.exit(int(os.environ.get("FAKE_FAIL", "0")) if "second" in sys.argv[0] else 0)
"""


def _all(tmp_path, monkeypatch):
    spec = importlib.util.spec_from_file_location("bench_all", ROOT / "benchmarks" / "all.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    for name in ("first", "second"):
        (tmp_path / f"{name}.py").write_text(FAKE)
    monkeypatch.setattr(module, "HERE", tmp_path)
    monkeypatch.setattr(module, "BENCHMARKS", {"first": [], "second": []})
    monkeypatch.setattr(module, "NEEDS_DATA", set())
    monkeypatch.setattr(sys, "argv", ["all.py"])
    return module


def test_the_speed_record_keeps_each_benchmark_and_replaces_only_those_rerun(tmp_path,
                                                                             monkeypatch):
    bench = _all(tmp_path, monkeypatch)
    record_path = tmp_path / "speed" / "benchmarks.json"
    monkeypatch.setenv("FAKE_FAIL", "1")
    assert bench.main(["--record", str(record_path)]) == 1  # "second" fails
    record = json.loads(record_path.read_text())
    assert list(record["benchmarks"]) == ["first"] and record["look"] is False
    first = record["benchmarks"]["first"]
    assert first["rows"][0]["seconds"] == {"tfdl": 2.0, "reference": 1.0}
    assert {"started", "commit", "load_at_start", "wall_s"} <= set(first)

    monkeypatch.setenv("FAKE_FAIL", "0")
    assert bench.main(["--record", str(record_path), "--only", "second"]) == 0
    record = json.loads(record_path.read_text())
    assert list(record["benchmarks"]) == ["first", "second"]  # BENCHMARKS' order
    assert record["benchmarks"]["first"] == first  # kept as it was

    # quick looks never extend a full-protocol record
    assert bench.main(["--record", str(record_path), "--only", "first", "--look"]) == 0
    record = json.loads(record_path.read_text())
    assert record["look"] is True and list(record["benchmarks"]) == ["first"]
