"""The result tables of a record: headlines, own checks and protocol checks, each row
claim · reported · reproduced (± std over seeds, or counts) · tolerance · seeds · result."""

from tfdl.harness.claims import (
    BETTER,
    HEADLINE,
    KINDS,
    NOT_RUN,
    OWN,
    PROTOCOL,
    REPORT_ERROR,
    VERDICTS,
    holds,
)

_SECTIONS = {HEADLINE: "Headlines (the report's numbers and statements)",
             OWN: "Own checks (no number in the report; the bar is ours, not counted)",
             PROTOCOL: "Protocol checks (cannot fail by training; not counted)"}
_LEGEND = {
    "seeds": "seeds: each seed's verdict; a claim holds when at least 2 of every 3 seeds pass "
             "(its pass rule).",
    BETTER: "BETTER: beats the report's number beyond the tolerance where the report is a "
            "bound; it does not count as holding.",
    REPORT_ERROR: "REPORT ERROR: the report's number is wrong; the check uses the corrected "
                  "value.",
    "STALE": "STALE: recorded with other code than today's; rerun to refresh.",
}
HEADER = ("claim", "reported", "reproduced", "tolerance", "seeds", "result")


def _fmt(value):
    if value is None:
        return "n/a"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.4g}"
    if isinstance(value, (list, tuple)):
        return "(" + ", ".join(_fmt(v) for v in value) + ")"
    return str(value)


def reproduced_cell(row):
    """Mean ± std over the measured seeds, or each value's count over the seeds."""
    if row["verdict"] == NOT_RUN:
        return _fmt(row["reproduced"])
    if row.get("counts"):
        return ", ".join(f"{_fmt(v)} ({n}/{row['seeds']})" for v, n in row["counts"])
    cell = _fmt(row["reproduced"])
    if row.get("std") is not None:
        cell += f" ± {row['std']:.2g}"
    if 0 < row.get("measured", row["seeds"]) < row["seeds"]:
        cell += f" ({row['measured']} of {row['seeds']} seeds)"
    return cell


def seeds_cell(row):
    """Each per-seed verdict's count, e.g. "PASS 2/3, diverged 1/3"."""
    counts = row.get("verdicts", {})
    return ", ".join(f"{v} {counts[v]}/{row['seeds']}" for v in VERDICTS if counts.get(v))


def result_cell(row):
    cell = row["verdict"]
    if cell == REPORT_ERROR:
        cell += f" (correct {_fmt(row['corrected'])}: {row['corrected_verdict']})"
    if row.get("stale"):
        cell += " STALE"
    return cell


def _cells(row):
    role = f" [{row['role']}]" if row.get("role") == "calibrated" else ""
    return (f"{row['id']}: {row['claim']}{role}", _fmt(row["reported"]), reproduced_cell(row),
            row["tolerance"], seeds_cell(row), result_cell(row))


def count(rows, kind, name=""):
    """"N/M [name]" of the rows of `kind` that hold, with "(… better than reported, … not
    run)"; None when there are none."""
    checked = [r for r in rows if r["kind"] == kind and r["verdict"] != NOT_RUN]
    not_run = sum(r["kind"] == kind and r["verdict"] == NOT_RUN for r in rows)
    if not checked and not not_run:
        return None
    extras = []
    better = sum(r["verdict"] == BETTER for r in checked)
    if better:
        extras.append(f"{better} better than reported")
    errors = sum(r["verdict"] == REPORT_ERROR for r in checked)
    if errors:
        extras.append(f"{errors} report error{'s' * (errors > 1)}")
    if not_run:
        extras.append(f"{not_run} not run")
    return (f"{sum(holds(r) for r in checked)}/{len(checked)}" + (f" {name}" if name else "")
            + (f" ({', '.join(extras)})" if extras else ""))


def held_out_count(rows):
    """"N/M" of the held-out headlines that hold (a report with a calibration); else None."""
    held_out = [r for r in rows if r.get("role") == "held out" and r["kind"] == HEADLINE
                and r["verdict"] != NOT_RUN]
    return f"{sum(holds(r) for r in held_out)}/{len(held_out)}" if held_out else None


def summary(record):
    """"N/M headlines hold …" over the headlines only; own and protocol checks apart."""
    rows = record.get("headlines", [])
    parts = []
    for kind in KINDS:
        counted = count(rows, kind, {HEADLINE: "headlines hold", OWN: "own checks hold",
                                     PROTOCOL: "protocol checks hold"}[kind])
        if counted is not None:
            parts.append(counted)
    held_out = held_out_count(rows)
    if held_out:
        parts.insert(1 if parts else 0, f"{held_out} "
                     "held-out headlines hold (the rest calibrated the unstated settings)")
    failures = record.get("failures", {})
    if failures:
        parts.append(f"{len(failures)} unit{'s' * (len(failures) > 1)} FAILED ("
                     + ", ".join(f"{k}: {v['error']}" for k, v in failures.items()) + ")")
    stale = sum(bool(r.get("stale")) for r in rows)
    if stale:
        parts.append(f"{stale} rows STALE (recorded with other code)")
    return "; ".join(parts) or "no claims evaluated"


def _title(record):
    seeds = record.get("seeds", [])
    title = (f"{record['title']} — {record['report']} (profile {record['profile']}, "
             f"{len(seeds)} seed{'s' * (len(seeds) != 1)})")
    if record.get("overrides"):
        title += ("\nMODIFIED PROTOCOL (--set " + " ".join(
            f"{k}={v!r}" for k, v in record["overrides"].items()) + "): not a reproduction of "
            "the report; the verdicts say how the modified run compares with its numbers")
    return title


def format_table(record):
    """The tables of a results record, as text."""
    out = [_title(record)]
    rows = record.get("headlines", [])
    for kind in KINDS:
        body = [_cells(r) for r in rows if r["kind"] == kind]
        if not body:
            continue
        widths = [max(len(r[i]) for r in [HEADER, *body]) for i in range(len(HEADER))]
        widths[0] = min(widths[0], 80)

        def line(cells, widths=widths):
            first = cells[0] if len(cells[0]) <= widths[0] else cells[0][: widths[0] - 1] + "…"
            return "  ".join([first.ljust(widths[0]),
                              *(c.ljust(w) for c, w in zip(cells[1:], widths[1:]))]).rstrip()

        out += ["", _SECTIONS[kind], line(HEADER), line(tuple("-" * w for w in widths))]
        out += [line(r) for r in body]
    notes = [f"  {r['id']}: {r['note']}" for r in rows if r.get("note")]
    if notes:
        out += ["", "notes:", *notes]
    out += ["", legend(rows), summary(record)]
    return "\n".join(out)


def legend(rows):
    """What the verdicts in `rows` mean (only those that occur)."""
    present = {"seeds"} | {r["verdict"] for r in rows} | ({"STALE"} if any(
        r.get("stale") for r in rows) else set())
    return " ".join(text for key, text in _LEGEND.items() if key in present)


def format_markdown(record):
    """The tables as Markdown (for the README), with the run's settings."""
    out = []
    rows = record.get("headlines", [])
    seeds = len(record.get("seeds", []))
    for kind in KINDS:
        body = [_cells(r) for r in rows if r["kind"] == kind]
        if not body:
            continue
        if out:
            out.append("")
        out += [f"*{_SECTIONS[kind]}*", "", *markdown_table(
            ["claim", "reported", f"reproduced ({seeds} seed{'s' * (seeds != 1)})", "tolerance",
             "seeds", "result"], body)]
    versions = record.get("versions", {})
    walls = ", ".join(f"{name} {sum(s['wall_s'] for s in by_seed.values()):.0f} s"
                      for name, by_seed in record.get("experiments", {}).items())
    if record.get("overrides"):
        out.insert(0, _title(record).split("\n", 1)[1])
        out.insert(1, "")
    out += ["", legend(rows), "",
            f"{summary(record)}; profile {record['profile']}; {record.get('machine', '')}; "
            f"TensorFlow {versions.get('tensorflow', '?')}, Keras {versions.get('keras', '?')}; "
            f"wall time per experiment (all seeds): {walls}."]
    return "\n".join(out)


def markdown_table(header, body):
    """The lines of a Markdown table (a "|" inside a cell escaped)."""
    return ["| " + " | ".join(header) + " |", "|" + "---|" * len(header),
            *("| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in body)]


def _measured(row):
    return [s["value"] for s in row.get("per_seed", []) if s["verdict"] in ("PASS", "FAIL",
                                                                            BETTER)]


def agreement(reference, row):
    """How `row` (a user's run) sits against the same claim in `reference` (a committed
    record's row): `(delta, inside)` — the difference of the aggregates (None for choices) and
    whether every seed of the user's lies inside the record's seed spread ([min, max] of its
    seeds' values; for choices, among its seeds' values). None where either is unmeasured."""
    ours, theirs = _measured(row), _measured(reference)
    if not ours or not theirs:
        return None, None
    numeric = reference.get("counts") is None and all(
        isinstance(v, (int, float)) and not isinstance(v, bool) for v in ours + theirs)
    if not numeric:
        return None, all(v in theirs for v in ours)
    delta = row["reproduced"] - reference["reproduced"]
    return delta, all(min(theirs) <= v <= max(theirs) for v in ours)


def format_against(reference, record):
    """Claim-by-claim comparison of a run with a committed record, as text."""
    rows = {r["id"]: r for r in reference.get("headlines", [])}
    header = ("claim", "record", "record seeds", "yours", "delta", "inside spread", "verdicts")
    body, inside_count, compared = [], 0, 0
    for row in record.get("headlines", []):
        base = rows.get(row["id"])
        if base is None:
            body.append((row["id"], "(not in the record)", "", reproduced_cell(row), "", "",
                         f"- / {row['verdict']}"))
            continue
        delta, inside = agreement(base, row)
        compared += inside is not None
        inside_count += bool(inside)
        body.append((row["id"], reproduced_cell(base),
                     ", ".join(_fmt(v) for v in _measured(base)) or "n/a",
                     reproduced_cell(row), "" if delta is None else f"{delta:+.3g}",
                     {True: "yes", False: "NO", None: "n/a"}[inside],
                     f"{base['verdict']} / {row['verdict']}"))
    widths = [max(len(r[i]) for r in [header, *body]) for i in range(len(header))]
    widths[0] = min(widths[0], 40)
    lines = [f"{record['report']}: your run (profile {record['profile']}, "
             f"{len(record.get('seeds', []))} seeds) against the record (profile "
             f"{reference['profile']}, {len(reference.get('seeds', []))} seeds, "
             f"{reference.get('machine', '?')})"]
    if record["profile"] != reference["profile"]:
        lines.append(f"note: profiles differ ({record['profile']} vs {reference['profile']}): "
                     "values are not expected to agree")
    for cells in [header, tuple("-" * w for w in widths), *body]:
        first = cells[0] if len(cells[0]) <= widths[0] else cells[0][: widths[0] - 1] + "…"
        lines.append("  ".join([first.ljust(widths[0]),
                                *(c.ljust(w) for c, w in zip(cells[1:], widths[1:]))]).rstrip())
    lines.append(f"{inside_count}/{compared} claims inside the record's seed spread "
                 "(verdicts: record / yours)")
    return "\n".join(lines)
