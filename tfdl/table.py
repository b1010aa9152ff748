"""The headline table: claim · reported · reproduced (± std) · tolerance · PASS/FAIL."""


def _fmt(value):
    if value is None:
        return "n/a"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.4g}"
    return str(value)


def format_table(record):
    """The headline table of a results record, as text."""
    rows = record.get("headlines", [])
    title = (f"{record['title']} — {record['report']} (profile {record['profile']}, "
             f"seeds {len(record.get('seeds', []))})")
    header = ("claim", "reported", "reproduced", "tolerance", "result")
    body = []
    for row in rows:
        reproduced = _fmt(row["reproduced"])
        if row.get("std") is not None:
            reproduced += f" ± {row['std']:.2g}"
        body.append((f"{row['id']}: {row['claim']}", _fmt(row["reported"]), reproduced,
                     row["tolerance"], _result(row["passed"])))
    widths = [max(len(r[i]) for r in [header, *body]) for i in range(len(header))]
    widths[0] = min(widths[0], 84)

    def line(cells):
        first = cells[0] if len(cells[0]) <= widths[0] else cells[0][: widths[0] - 1] + "…"
        return "  ".join([first.ljust(widths[0]), *(c.ljust(w) for c, w in zip(cells[1:], widths[1:]))])

    out = [title, line(header), line(tuple("-" * w for w in widths))]
    out += [line(r) for r in body]
    notes = [f"  {r['id']}: {r['note']}" for r in rows if r.get("note")]
    if notes:
        out += ["notes:", *notes]
    passed = sum(r["passed"] is True for r in rows)
    checked = [r for r in rows if r["passed"] is not None]
    not_run = len(rows) - len(checked)
    out.append(f"{passed}/{len(checked)} headlines hold"
               + (f" ({not_run} not run)" if not_run else ""))
    return "\n".join(out)


def _result(passed):
    return "NOT RUN" if passed is None else "PASS" if passed else "FAIL"


def format_markdown(record):
    """The headline table as a Markdown table (for the README), with the run's settings."""
    seeds = len(record.get("seeds", []))
    spread = " ± std" if seeds > 1 else ""
    out = [f"| claim | reported | reproduced{spread} ({seeds} seed{'s' * (seeds > 1)}) "
           "| tolerance | result |", "|---|---|---|---|---|"]
    for row in record.get("headlines", []):
        reproduced = _fmt(row["reproduced"])
        if row.get("std") is not None:
            reproduced += f" ± {row['std']:.2g}"
        cells = [f"{row['id']}: {row['claim']}", _fmt(row["reported"]), reproduced,
                 row["tolerance"], _result(row["passed"])]
        out.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    rows = record.get("headlines", [])
    out.append("")
    checked = [r for r in rows if r["passed"] is not None]
    not_run = len(rows) - len(checked)
    out.append(f"{sum(r['passed'] is True for r in rows)}/{len(checked)} headlines hold"
               + (f" ({not_run} not run)" if not_run else "") + "; profile "
               f"{record['profile']}; {record.get('machine', '')}; TensorFlow "
               f"{record.get('versions', {}).get('tensorflow', '?')}, Keras "
               f"{record.get('versions', {}).get('keras', '?')}; wall time per experiment: " +
               ", ".join(f"{name} {sum(s['wall_s'] for s in seeds_.values()):.0f} s"
                         for name, seeds_ in record.get("experiments", {}).items()) + ".")
    return "\n".join(out)


def all_passed(record):
    """True iff at least one headline was checked and every checked one holds (rows whose
    experiment could not run, `passed` None, are not counted)."""
    rows = [r for r in record.get("headlines", []) if r["passed"] is not None]
    return bool(rows) and all(r["passed"] for r in rows)
