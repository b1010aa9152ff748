"""Committed records (`results/<report>.json`) and the README tables generated from them.

A full run's `logs/<report>/results.json` holds every curve; the committed record keeps what a
reader and `tfdl report --against` need: each claim's per-seed values and verdicts, the
fingerprint of the code, versions, machine, wall time per experiment and seed, date, command.

    tfdl record logs/hw2_mydnn            # writes results/hw2_mydnn.json
    tfdl readme                           # rewrites the README blocks from results/*.json
    tfdl readme --check                   # exit 1 if the README differs from the records

A README block is the text between `<!-- results: NAME -->` and `<!-- /results -->`; the
summary table of every report between `<!-- results-summary -->` and `<!-- /results-summary -->`;
a report's notes between `<!-- notes: NAME -->` and `<!-- /notes -->`, from the template
`docs/notes/NAME.md`, where `{claim id}` stands for that claim's per-seed values
("0.290 / 0.301 / 0.309", seed order) in its record: the numbers of "why each FAIL" are the
record's, never typed.

A calibration search's ranked table (and its `--confirm` rerun, when there is one) is committed
the same way, `tfdl record logs/NAME-calibrate-full` -> `results/calibration/NAME.json`, and shown
between `<!-- calibration: NAME -->` and `<!-- /calibration -->` (NAME-SEARCH for a named
search): its best rows, whether the search has finished, the confirmation table.

The Speed table is generated the same way from the record `benchmarks/all.py --record` writes
(`results/speed/benchmarks.json`: each costliest experiment timed through tfdl and through its
hand-written reference, with the FLOP floor, the load average, machine, versions and commit),
between `<!-- speed -->` and `<!-- /speed -->`.
"""

import json
import re
from pathlib import Path

from tfdl.harness.claims import HEADLINE, OWN, PROTOCOL
from tfdl.harness.experiment import write_json_atomic
from tfdl.harness.table import _fmt, count, format_markdown, held_out_count

_ENTRY_KEYS = ("settings", "fingerprint", "wall_s", "threads", "device", "host", "retries",
               "overrides")
_BLOCK = re.compile(r"(<!-- results: (?P<name>[\w-]+) -->\n)(?P<body>.*?)(<!-- /results -->)",
                    re.S)
_SUMMARY = re.compile(r"(<!-- results-summary -->\n)(?P<body>.*?)(<!-- /results-summary -->)",
                      re.S)
_NOTES = re.compile(r"(<!-- notes: (?P<name>[\w-]+) -->\n)(?P<body>.*?)(<!-- /notes -->)", re.S)
_CALIBRATION = re.compile(
    r"(<!-- calibration: (?P<name>[\w-]+) -->\n)(?P<body>.*?)(<!-- /calibration -->)", re.S)
_SPEED = re.compile(r"(<!-- speed -->\n)(?P<body>.*?)(<!-- /speed -->)", re.S)
_PLACEHOLDER = re.compile(r"\{([\w.-]+)\}")
CALIBRATION_FOLDER = "results/calibration"
SPEED_FILE = "results/speed/benchmarks.json"
SHOWN_TRIALS = 10  # the README shows the best rows of a search; the file has them all


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


def calibration_name(table):
    """A search's name in `results/calibration/`: the report's, with the named search's."""
    return table["report"] + (f"-{table['search']}" if table.get("search") else "")


def save_calibration(logdir, folder=CALIBRATION_FOLDER):
    """Writes `folder/NAME.json` from a search's folder (its `calibration.json`, and
    `confirmation.json` when `--confirm` ran) and returns its path."""
    logdir, folder = Path(logdir), Path(folder)
    table = json.loads((logdir / "calibration.json").read_text())
    confirmation = logdir / "confirmation.json"
    saved = {"search": table,
             "confirmation": json.loads(confirmation.read_text()) if confirmation.is_file()
             else None}
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{calibration_name(table)}.json"
    write_json_atomic(path, saved)
    return path


def calibration_block(saved, shown=SHOWN_TRIALS):
    """The README block of a committed search: its best `shown` rows, then the confirmation."""
    from tfdl.harness import calibration

    table, name = saved["search"], calibration_name(saved["search"])
    rows = table["rows"]
    parts = [f"Generated from [`results/calibration/{name}.json`](results/calibration/{name}.json)"
             " (`tfdl readme`)" + ("" if table.get("complete", True) else
                                   "; **the search has not finished**, these are its trials so "
                                   "far") + ".",
             calibration.format_ranking(dict(table, rows=rows[:shown]), markdown=True)]
    if len(rows) > shown:
        parts.append(f"The other {len(rows) - shown} trials are in the file.")
    if saved.get("confirmation"):
        parts.append(calibration.format_confirmation(saved["confirmation"], markdown=True))
    return "\n\n".join(parts) + "\n"


def load_calibrations(folder=CALIBRATION_FOLDER):
    """`{name: saved search}` of the committed searches."""
    return {path.stem: json.loads(path.read_text())
            for path in sorted(Path(folder).glob("*.json"))}


def block(record):
    """The README block of a record: its tables, legend and summary line."""
    seeds = len(record.get("seeds", []))
    head = (f"Generated from [`results/{record['report']}.json`](results/{record['report']}.json)"
            f" (`tfdl readme`): profile {record['profile']}, {seeds} seed"
            f"{'s' * (seeds != 1)}, {record.get('command') or 'command not recorded'}, "
            f"started {record.get('started', '?')}.")
    return f"{head}\n\n{format_markdown(record)}\n"


def summary_table(records, reports):
    """One row per report (`reports`: `{name: (number, title)}` or `(number, title,
    experiments)`): what its committed record holds, or that it has none."""
    lines = ["| report | script | committed record | headlines hold | own checks hold | "
             "protocol checks hold |", "|---|---|---|---|---|---|"]
    for name, (number, title, *experiments) in sorted(reports.items(), key=lambda i: i[1]):
        record = records.get(name)
        if record is None:
            lines.append(f"| {number} {title} | `{name}.py` | none yet (its section shows "
                         "earlier runs, typed) | — | — | — |")
            continue
        rows = record.get("headlines", [])
        seeds = len(record.get("seeds", []))
        source = (f"{seeds} seed{'s' * (seeds != 1)}, profile {record['profile']}, "
                  f"[results/{name}.json](results/{name}.json)")
        missing = [e for e in (experiments[0] if experiments else [])
                   if e not in record.get("experiments", {})]
        if missing:
            source += f" (not in it: {', '.join(missing)})"
        if any(r.get("stale") for r in rows):
            source += " STALE"
        headlines = count(rows, HEADLINE) or "—"
        if held_out_count(rows):
            headlines += f"; held out {held_out_count(rows)}"
        lines.append(f"| {number} {title} | `{name}.py` | {source} | {headlines} | "
                     f"{count(rows, OWN) or '—'} | {count(rows, PROTOCOL) or '—'} |")
    return "\n".join(lines) + "\n"


def per_seed(record, claim_id):
    """A claim's per-seed values in `record`, "a / b / c" in seed order."""
    rows = {r["id"]: r for r in record.get("headlines", [])}
    if claim_id not in rows:
        raise KeyError(f"{record['report']} has no claim {claim_id!r}")
    return " / ".join(_fmt(s["value"]) if s["verdict"] != "diverged" else "diverged"
                      for s in rows[claim_id]["per_seed"])


def notes(template, record):
    """A notes template with every `{claim id}` replaced by that claim's per-seed values."""
    return _PLACEHOLDER.sub(lambda m: per_seed(record, m.group(1)), template)


def sync(readme_text, records, reports=None, notes_dir=None, calibrations=None, speed=None):
    """`readme_text` with every block whose record is in `records` (by report name)
    regenerated, the summary table (with `reports`, see `summary_table`), the notes blocks
    (templates in `notes_dir`), the calibration blocks (`calibrations`, see
    `load_calibrations`) and the Speed table (`speed`, `load_speed`'s record); returns
    `(text, names of blocks changed)`."""
    changed = []

    def notes_of(name):
        template = Path(notes_dir) / f"{name}.md"
        if name in records and template.is_file():
            return notes(template.read_text(), records[name])
        return None

    text = _regenerate(_BLOCK, readme_text, changed, lambda name: name,
                       lambda name: block(records[name]) if name in records else None)
    if reports is not None:
        text = _regenerate(_SUMMARY, text, changed, lambda name: "summary",
                           lambda name: summary_table(records, reports))
    if notes_dir is not None:
        text = _regenerate(_NOTES, text, changed, lambda name: f"notes: {name}", notes_of)
    if calibrations is not None:
        text = _regenerate(_CALIBRATION, text, changed, lambda name: f"calibration: {name}",
                           lambda name: calibration_block(calibrations[name])
                           if name in calibrations else None)
    if speed is not None:
        text = _regenerate(_SPEED, text, changed, lambda name: "speed",
                           lambda name: speed_block(speed))
    return text, changed


def _regenerate(pattern, text, changed, label, render):
    """`text` with the body of each block `pattern` matches replaced by `render(name)` (None:
    left as it is; name None for a block without one); `label(name)` of each block whose body
    changed is appended to `changed`."""
    def replace(match):
        name = match.groupdict().get("name")
        body = render(name)
        if body is None:
            return match.group(0)
        if body != match.group("body"):
            changed.append(label(name))
        return match.group(1) + body + match.group(match.re.groups)

    return pattern.sub(replace, text)


def speed_table(rows):
    """Markdown: one line per benchmark (`benchmarks/_speed.report`'s rows): each path's time,
    tfdl / reference, the fraction of the FLOP floor each reaches, the load average."""
    out = ["| workload | tfdl | reference | tfdl / reference | floor / time: tfdl, reference "
           "| load average |", "|---|---|---|---|---|---|"]
    for row in rows:
        seconds = row["seconds"]
        ref = seconds["reference"]
        tfdl = next(v for k, v in seconds.items() if k != "reference")
        out.append(f"| {row['title']} | {tfdl:.1f} s | {ref:.1f} s | {tfdl / ref:.2f}× | "
                   f"{row['floor_s'] / tfdl:.0%}, {row['floor_s'] / ref:.0%} | {row['load']:.1f} |")
    return "\n".join(out)


def speed_block(record):
    """The README's Speed table (every benchmark's rows, in the record's order) and the lines
    that say where, when and how it was measured."""
    entries = list(record["benchmarks"].values())
    versions = record.get("versions", {})
    what = ("each benchmark's quick look, not the full protocol" if record.get("look")
            else "full protocol")
    dates = sorted({e["started"][:10] for e in entries})
    when = dates[0] if len(dates) == 1 else f"{dates[0]} to {dates[-1]}"
    commits = list(dict.fromkeys(e["commit"] for e in entries))
    return (speed_table([row for e in entries for row in e["rows"]]) + "\n\n"
            f"{what}; {len(entries)} benchmark(s), measured {when}"
            f" on {record.get('machine', '?')}, TensorFlow {versions.get('tensorflow', '?')}, "
            f"Keras {versions.get('keras', '?')}, commit {', '.join(commits)}; load average at "
            f"a benchmark's start ≤ {max(e['load_at_start'] for e in entries):.2f}. Generated "
            "from `results/speed/benchmarks.json` by `tfdl readme`; `python benchmarks/all.py "
            "--record results/speed/benchmarks.json [--only NAME…]` retakes it.\n")


def load_speed(path=SPEED_FILE):
    """The committed speed record, or None when there is none."""
    path = Path(path)
    return json.loads(path.read_text()) if path.is_file() else None


def report_titles():
    """`{name: (report number, title, experiment names)}` of every reproduction script."""
    from tfdl.harness import cli

    out = {}
    for name in cli._scripts():
        report = cli.load_report(name)
        out[name] = (report.report_file.split("_")[0], report.title, list(report.experiments))
    return out


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
