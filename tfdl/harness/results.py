"""Committed records (`results/<report>.json`) and the README tables generated from them.

A full run's `logs/<report>/results.json` holds every curve; the committed record keeps what a
reader and `tfdl report --against` need: each claim's per-seed values and verdicts, the
fingerprint of the code, versions, machine, wall time per experiment and seed, date, command.

    tfdl record logs/hw2_mydnn            # writes results/hw2_mydnn.json
    tfdl readme                           # rewrites the README blocks from results/*.json
    tfdl readme --check                   # exit 1 if the README differs from the records

A README block is the text between `<!-- results: NAME -->` and `<!-- /results -->`.
"""

import json
import re
from pathlib import Path

from tfdl.harness.experiment import write_json_atomic
from tfdl.harness.table import format_markdown

_ENTRY_KEYS = ("settings", "fingerprint", "wall_s", "threads", "device", "host", "retries",
               "overrides")
_BLOCK = re.compile(r"(<!-- results: (?P<name>[\w-]+) -->\n)(?P<body>.*?)(<!-- /results -->)",
                    re.S)


def compact(record):
    """The record without per-step metrics: claims per seed, provenance, wall times."""
    out = {k: v for k, v in record.items() if k != "experiments"}
    out["experiments"] = {
        name: {seed: {k: entry[k] for k in _ENTRY_KEYS if k in entry}
               for seed, entry in by_seed.items()}
        for name, by_seed in record.get("experiments", {}).items()}
    return out


def save(record, folder="results"):
    """Writes `folder/<report>.json` (compact) and returns its path."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{record['report']}.json"
    write_json_atomic(path, compact(record))
    return path


def block(record):
    """The README block of a record: its tables, legend and summary line."""
    seeds = len(record.get("seeds", []))
    head = (f"Generated from [`results/{record['report']}.json`](results/{record['report']}.json)"
            f" (`tfdl readme`): profile {record['profile']}, {seeds} seed"
            f"{'s' * (seeds != 1)}, {record.get('command') or 'command not recorded'}, "
            f"started {record.get('started', '?')}.")
    return f"{head}\n\n{format_markdown(record)}\n"


def sync(readme_text, records):
    """`readme_text` with every block whose record is in `records` (by report name)
    regenerated; returns `(text, names of blocks changed)`."""
    changed = []

    def replace(match):
        name = match.group("name")
        if name not in records:
            return match.group(0)
        body = block(records[name])
        if body != match.group("body"):
            changed.append(name)
        return match.group(1) + body + match.group(4)

    return _BLOCK.sub(replace, readme_text), changed


_STALE = re.compile(r" STALE: recorded with other code than today's; rerun to refresh\."
                    r"|; \d+ rows STALE \(recorded with other code\)| STALE")


def without_stale(text):
    """`text` without STALE marks: a code change alone must not make the README out of date
    (tests compare this way); `tfdl readme` writes the marks in."""
    return _STALE.sub("", text)


def load_records(folder="results"):
    """`{report: record}` of the committed records, marked STALE where their code changed."""
    from tfdl.harness import cli

    records = {}
    for path in sorted(Path(folder).glob("*.json")):
        record = json.loads(path.read_text())
        cli._mark_stale(record)
        records[record["report"]] = record
    return records
