"""Every report's costliest experiment at full protocol, through tfdl and through its
hand-written reference, one benchmark after another (each in its own process), then one
markdown table: time of each path, tfdl / reference, and the fraction of the FLOP floor each
reaches. The table is what README's Speed section shows; take it on an idle machine (the load
average is printed with every row: other jobs inflate both paths, unevenly).

    TFDL_DATA_DIR=../shared/data python benchmarks/all.py                # full protocol, hours
    TFDL_DATA_DIR=../shared/data python benchmarks/all.py --look         # each one's quick look
    python benchmarks/all.py --only report004_learning_rate --out speed.md
    TFDL_DATA_DIR=../shared/data python benchmarks/all.py --record results/speed/benchmarks.json
    tfdl readme        # README's Speed table from that record

`--record` keeps each benchmark's rows as soon as it finishes, with its start time, commit and
load average, under the record's machine and versions; a later `--record` with `--only` replaces
those benchmarks and keeps the others (a record from another machine, versions or protocol is
started anew).
"""

import argparse
import datetime
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tfdl.harness import experiment, results

HERE = Path(__file__).resolve().parent

# Each costliest experiment (README, Speed) and the arguments of its quick look.
BENCHMARKS = {
    "report004_learning_rate": ["--steps", "1000", "--lrs", "2"],
    "report004_early_stopping": ["--steps", "2000"],
    "report000_batch128": ["--epochs", "1"],
    "report000_regularization": ["--epochs", "1", "--final-epochs", "1", "--decays", "2"],
    "report001_four_tests": ["--epochs", "2", "--inits", "1"],
    "report002_parameters": ["--epochs", "1", "--budgets", "4000,1000000"],
    "report003_depth_width": ["--epochs", "2", "--configs", "1,7"],
}
NEEDS_DATA = {"report001_four_tests", "report003_depth_width"}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--look", action="store_true",
                        help="each benchmark's quick look (minutes), not the full protocol")
    parser.add_argument("--only", nargs="+", choices=sorted(BENCHMARKS), metavar="NAME",
                        help=f"some of: {', '.join(BENCHMARKS)}")
    parser.add_argument("--out", type=Path, help="also write the table to this file")
    parser.add_argument("--record", type=Path, metavar="JSON",
                        help="also keep each benchmark's rows with their provenance in this "
                             "record, replacing only the benchmarks run now (README's Speed "
                             f"table is generated from {results.SPEED_FILE})")
    args = parser.parse_args(argv)
    names = args.only or list(BENCHMARKS)
    if not os.environ.get("TFDL_DATA_DIR") and NEEDS_DATA & set(names):
        parser.error("TFDL_DATA_DIR is unset: " + ", ".join(sorted(NEEDS_DATA & set(names)))
                     + " read the data directory (../shared/data)")
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores at the start"
          + ("" if os.getloadavg()[0] < 0.5 else ": not idle, times will be inflated"),
          file=sys.stderr)
    provenance = experiment.provenance()  # machine and versions: once, not per benchmark
    record = _record_to_extend(args.record, args.look, provenance) if args.record else None
    failed, rows = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            collected = Path(tmp) / f"{name}.jsonl"
            command = [sys.executable, str(HERE / f"{name}.py")]
            command += BENCHMARKS[name] if args.look else []
            print(f"== {name} {' '.join(command[2:])}", file=sys.stderr, flush=True)
            entry = {"started": datetime.datetime.now(datetime.timezone.utc).isoformat(
                         timespec="seconds"), "commit": _commit(),
                     "load_at_start": os.getloadavg()[0]}
            start = time.perf_counter()
            done = subprocess.run(command, env={**os.environ, "TFDL_BENCH_JSON": str(collected)})
            entry["wall_s"] = time.perf_counter() - start
            print(f"   ({entry['wall_s']:.0f} s)", file=sys.stderr, flush=True)
            if done.returncode != 0 or not collected.exists():
                failed.append(name)
                continue
            entry["rows"] = [json.loads(line) for line in collected.read_text().splitlines()]
            rows += entry["rows"]
            if record is not None:  # each finished benchmark is kept at once
                record["benchmarks"][name] = entry
                record["benchmarks"] = {n: record["benchmarks"][n] for n in BENCHMARKS
                                        if n in record["benchmarks"]}
                experiment.write_json_atomic(args.record, record)
    text = results.speed_table(rows)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")
    if record is not None:
        print(f"{args.record}: {', '.join(record['benchmarks']) or 'no benchmark'}",
              file=sys.stderr)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


def _record_to_extend(path, look, provenance):
    """The speed record at `path` when it was taken the same way (full protocol or quick looks)
    on the same machine and versions: the benchmarks run now replace theirs and the others stay.
    Otherwise a new, empty one."""
    same = {"kind": "speed", "look": look, "machine": provenance["machine"],
            "versions": {k: provenance["versions"][k] for k in ("tensorflow", "keras", "numpy")}}
    if path.is_file():
        old = json.loads(path.read_text())
        if all(old.get(k) == v for k, v in same.items()):
            return old
        print(f"{path}: taken on another machine, versions or protocol; starting it anew",
              file=sys.stderr)
    path.parent.mkdir(parents=True, exist_ok=True)
    return {**same, "benchmarks": {}}


def _commit():
    """The checkout's commit, "+dirty" when the code (not README or records) differs from it
    ("?" outside git)."""
    def git(*command):
        return subprocess.run(["git", *command], cwd=HERE, capture_output=True, text=True)
    head = git("rev-parse", "--short", "HEAD")
    if head.returncode != 0:
        return "?"
    dirty = git("status", "--porcelain", "--untracked-files=no", "--", "../tfdl", ".",
                "../reproductions", "../setup.cfg", "../constraints.txt").stdout.strip()
    return head.stdout.strip() + ("+dirty" if dirty else "")


if __name__ == "__main__":
    sys.exit(main())
