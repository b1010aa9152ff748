"""Calibration: a declared search over what a report does not say, scored on some of its claims.

A script declares the settings its report leaves open as a search space of the values the text
allows, and the claims the search may look at (its *targets*); every other claim is *held out*
and is the reproduction's real test. `tfdl calibrate NAME` runs the search at the targets'
protocol and ranks the settings by how far the targets land from the reported numbers, in units
of their tolerances:

    REPORT.calibrate(Calibration(
        experiment="learning_rate",
        targets=("lr.0.001", "lr.0.001.loss"),
        space={"LOSS": ["half_squared_error", "categorical_crossentropy"],
               "HIDDEN": [[128], [256]]},
        protocol={"learning_rates": [0.001]},   # profile overrides: only what the targets read
    ))

Each trial is a modified-protocol run (`--set` of its settings) in its own log directory under
the calibration's, so a rerun resumes, and its units go through the runner (`--jobs`, `--ray`).
A space no larger than the budget is searched as a grid, in declared order; a larger one with
keras-tuner's Bayesian oracle (seeded).

A setting the script chose by hand on some claim, outside any search (e.g. a learning rate
picked by checking the one run the report prints), makes that claim calibrated too: declare it
in `targets` and say which setting and why in `by_hand`; the search does not score it.

A script may also declare other searches by name, `SEARCHES = {"name": Calibration(...)}`, run
with `tfdl calibrate NAME --search name`: they ask whether any setting reaches some claims (a
finding to report), and set neither the script's configuration nor any claim's role.
"""

import dataclasses
import itertools
import json
import math
import re
import threading
from pathlib import Path

from tfdl.harness import settings
from tfdl.harness.claims import FAIL, PASS
from tfdl.harness.table import (
    HEADLINE,
    _fmt,
    count,
    held_out_count,
    markdown_table,
    reproduced_cell,
)


@dataclasses.dataclass(frozen=True)
class Calibration:
    """What a report's search may change and what it may look at.

    Args:
        experiment: the experiment whose claims the search scores.
        targets: ids of the claims the settings were chosen on (the *calibrated* claims): the
            search scores them (numeric, with a tolerance width), except those of `by_hand`.
        space: `{NAME: [values]}`, names `--set` accepts (Inferred constants, profile keys).
        protocol: profile overrides that make a trial run only what the targets read.
        budget: the most trials a search runs (`--trials` may lower it).
        widths: `{claim id: distance unit}` for targets whose check has no tolerance width
            (e.g. a range): how far from the reported number counts as one unit.
        by_hand: `{claim id: which setting was chosen on it, and why}` for targets a setting
            outside the search was chosen on by hand; they are calibrated, never scored.
    """

    experiment: str
    targets: tuple
    space: dict
    protocol: dict = dataclasses.field(default_factory=dict)
    budget: int = 60
    widths: dict = dataclasses.field(default_factory=dict)
    by_hand: dict = dataclasses.field(default_factory=dict)

    def scored(self):
        """The targets the search scores: all but those chosen on by hand."""
        return tuple(t for t in self.targets if t not in self.by_hand)

    def size(self):
        return math.prod(len(v) for v in self.space.values())

    def grid(self):
        names = list(self.space)
        return [dict(zip(names, values)) for values in itertools.product(*self.space.values())]


def role(report, claim_id):
    """"calibrated" for a target of the report's search, "held out" for every other claim,
    None when the report declares no search."""
    calibration = getattr(report, "calibration", None)
    if calibration is None:
        return None
    return "calibrated" if claim_id in calibration.targets else "held out"


def mark_roles(report, rows):
    """Sets each row's "role" (see `role`) where the report declares a search."""
    for row in rows:
        row_role = role(report, row["id"])
        if row_role:
            row["role"] = row_role


def _target_claims(report, calibration):
    claims = {c.id: c for c in report.claims}
    missing = [t for t in (*calibration.targets, *calibration.by_hand) if t not in claims]
    if missing:
        raise ValueError(f"calibration targets name unknown claims: {', '.join(missing)}")
    outside = [t for t in calibration.by_hand if t not in calibration.targets]
    if outside:
        raise ValueError(f"calibration by_hand names claims that are not targets: "
                         f"{', '.join(outside)} (a claim chosen on is calibrated: add it)")
    targets = [claims[t] for t in calibration.scored()]
    for claim in targets:
        if claim.check.width is None and claim.id not in calibration.widths:
            raise ValueError(f"calibration target {claim.id}: its check has no tolerance width "
                             "(use within or within_relative, or give the search's widths)")
    return targets


def score(targets, record, widths=None):
    """`(score, {claim id: mean value})` of a trial's record: the mean over targets of
    |value − reported| / tolerance width (`widths[claim id]` where given; inf where a target
    could not be measured)."""
    widths = widths or {}
    per_seed = record["experiments"][targets[0].experiment]
    metrics = {s: per_seed[s]["metrics"] for s in sorted(per_seed, key=int)}
    values, distances = {}, []
    for claim in targets:
        row = claim.evaluate(metrics)
        measured = [s["value"] for s in row["per_seed"] if s["verdict"] in (PASS, FAIL)]
        value = sum(measured) / len(measured) if len(measured) == len(metrics) else None
        values[claim.id] = value
        width = widths.get(claim.id, claim.check.width)
        distances.append(math.inf if value is None else abs(value - claim.reported) / width)
    return sum(distances) / len(distances), values


def search_dir(report_name, profile, name=None):
    """A search's default folder: logs/NAME-calibrate[-SEARCH]-PROFILE."""
    return Path("logs") / "-".join([report_name, "calibrate", *([name] if name else []), profile])


def search(report, profile="full", trials=None, seeds=1, logdir=None, runner=None,
           space=None, log=print, calibration=None, name=None, parallel=1):
    """Runs the report's declared search (or `space` in its place); returns the ranked rows.

    Each row: `{"setting": {...}, "score": float, "values": {claim: value}}`, best first; the
    table is also written to `<logdir>/calibration.json`. A grid runs `parallel` trials at
    once, each through `runner` (which must then run its units in worker processes, e.g.
    `ProcessPool`: two TensorFlow units never share a process); the Bayesian oracle proposes
    one trial at a time.
    """
    from tfdl.harness import runner as runners
    from tfdl.harness.experiment import write_json_atomic

    calibration = calibration or report.calibration
    if space is not None:
        calibration = dataclasses.replace(calibration, space=space)
    targets = _target_claims(report, calibration)
    budget = min(trials or calibration.budget, calibration.budget)
    for setting, values in calibration.space.items():
        settings.parse(report, profile, [f"{setting}={v!r}" for v in values])  # settable, typed
    logdir = Path(logdir or search_dir(report.name, profile, name))
    logdir.mkdir(parents=True, exist_ok=True)
    rows = []
    runner = runner or runners.InProcess()
    if parallel > 1 and isinstance(runner, runners.InProcess):
        raise ValueError("parallel trials need a runner with worker processes (ProcessPool)")
    threads = (getattr(runner, "threads", None)
               or runners.default_threads(parallel * runner.jobs))

    method = "grid" if calibration.size() <= budget else "bayesian"
    lock = threading.Lock()

    def table(complete):
        ranked = sorted(rows, key=lambda r: (r["score"], r["position"]))  # ties: as proposed
        return {"report": report.name, "search": name, "profile": profile, "seeds": seeds,
                "method": method, "complete": complete,
                "trials": len(rows), "space_size": calibration.size(),
                "targets": list(calibration.scored()),
                "reported": {c.id: c.reported for c in targets},
                "tolerance": {c.id: c.check.tolerance if c.id not in calibration.widths
                              else f"unit {calibration.widths[c.id]:g}" for c in targets},
                "rows": [{k: v for k, v in r.items() if k != "position"} for r in ranked]}

    def save(complete):
        # Rewritten after every trial: an interrupted search leaves its ranking so far.
        write_json_atomic(logdir / "calibration.json", table(complete))

    total = calibration.size() if method == "grid" else budget
    started = itertools.count(1)

    def trial(setting, position=None):
        overrides = {**calibration.protocol, **setting}
        with lock:
            log(f"trial {next(started)} of {total} starts: {_setting_text(setting)} "
                f"({logdir / settings.digest(overrides)})")
        record = report.run(profile=profile, only=[calibration.experiment], seeds=seeds,
                            logdir=logdir / settings.digest(overrides), overrides=overrides,
                            runner=runner, threads=threads)
        value, values = score(targets, record, calibration.widths)
        with lock:
            rows.append({"setting": setting, "score": value, "values": values,
                         "position": len(rows) if position is None else position})
            save(complete=False)
            log(f"trial {len(rows)} of {total} done: {_setting_text(setting)}: score "
                f"{value:.3g}")
        return value

    if method == "grid":
        _grid(calibration.grid(), trial, parallel)
    else:
        _bayesian(calibration, budget, trial, logdir)
    save(complete=True)
    return table(complete=True)


def confirm(report, table, best=3, profile="full", seeds=3, logdir=None, runner=None,
            log=print):
    """Reruns the `best` settings of a finished search's `table` on every experiment of the
    report (its whole protocol, not the targets' alone) with `seeds` seeds: do the held-out
    claims hold where the targets came closest? A setting equal to the script's own values is
    the report's protocol, run in the report's usual folder (its run is the report's record);
    the others are modified-protocol runs in `<logdir>/confirm-<digest>`.

    Returns `{"report", "profile", "seeds", "search", "rows"}`, each row `{"setting",
    "search_score", "score" (the targets' score over the seeds), "headlines", "held_out"
    ("N/M hold"), "logdir"}`, in the search's order; also written to
    `<logdir>/confirmation.json`.
    """
    from tfdl.harness.experiment import default_logdir, write_json_atomic

    calibration = report.calibration
    targets = _target_claims(report, calibration)
    logdir = Path(logdir or search_dir(report.name, table["profile"]))
    current = settings.settable(report, profile)
    rows = []
    for rank, row in enumerate(table["rows"][:best], start=1):
        overrides = {k: v for k, v in row["setting"].items() if current.get(k) != v}
        folder = (logdir / f"confirm-{settings.digest(overrides)}" if overrides
                  else Path(default_logdir(report.name, profile)))
        log(f"setting {rank} of {best}: {_setting_text(row['setting'])}"
            + ("" if overrides else " (the script's own)") + f" -> {folder}")
        record = report.run(profile=profile, seeds=seeds, logdir=folder, overrides=overrides,
                            runner=runner)
        headlines = record.get("headlines", [])
        rows.append({"setting": row["setting"], "search_score": row["score"],
                     "score": score(targets, record, calibration.widths)[0],
                     "headlines": count(headlines, HEADLINE), "held_out": held_out_count(
                         headlines), "logdir": str(folder),
                     "held_out_claims": {  # the table's rows
                         r["id"]: {k: v for k, v in r.items() if k != "quote"}
                         for r in headlines
                         if r.get("role") == "held out" and r["kind"] == HEADLINE}})
    out = {"report": report.name, "profile": profile, "seeds": seeds,
           "search": {k: table[k] for k in ("profile", "seeds", "method", "trials",
                                            "space_size")}, "rows": rows}
    logdir.mkdir(parents=True, exist_ok=True)
    write_json_atomic(logdir / "confirmation.json", out)
    return out


def format_confirmation(out, markdown=False):
    """The confirmation table: setting, both scores, headlines and held-out headlines holding."""
    header = ["rank", "setting", "search score", f"score, {out['seeds']} seeds",
              "headlines hold", "held-out hold"]
    body = [[str(i), _setting_text(r["setting"]), _number(r["search_score"]),
             _number(r["score"]), r["headlines"] or "none", r["held_out"] or "none"]
            for i, r in enumerate(out["rows"], start=1)]
    search = out["search"]
    title = (f"Best {len(body)} settings of {out['report']}'s calibration ({search['method']} "
             f"search, {search['trials']} trials of {search['space_size']}) rerun on every "
             f"experiment: profile {out['profile']}, {out['seeds']} seeds")
    text = _layout(title, header, body, markdown)
    claims = list(dict.fromkeys(c for r in out["rows"] for c in r.get("held_out_claims", {})))
    if not claims:
        return text
    # Each held-out headline under each setting: where one fails everywhere, the closest value
    # the confirmed settings reached is in its row.
    header = ["held-out headline", "reported", "tolerance",
              *(f"setting {i}" for i in range(1, len(out["rows"]) + 1))]
    body = []
    for claim in claims:
        first = next(r["held_out_claims"][claim] for r in out["rows"]
                     if claim in r.get("held_out_claims", {}))
        body.append([claim, _fmt(first["reported"]), str(first["tolerance"]),
                     *(_outcome(r.get("held_out_claims", {}).get(claim)) for r in out["rows"])])
    text += "\n\n" + _layout("Held-out headlines under each setting (mean over the seeds, "
                             "verdict)", header, body, markdown)
    return text + _closest(out, claims, markdown)


def _closest(out, claims, markdown):
    """A line for each held-out headline that holds under none of the confirmed settings: the
    run (setting, seed) closest to the report — nearest the reported number, or where the
    report states a bound, nearest the bound's side."""
    lines = []
    for claim in claims:
        rows = [(i, r["held_out_claims"].get(claim)) for i, r in enumerate(out["rows"], 1)]
        rows = [(i, row) for i, row in rows if row is not None]
        if any(row["verdict"] == PASS for _, row in rows):
            continue
        first = rows[0][1]
        distance = _distance(first["reported"], first["tolerance"])
        runs = [(s["value"], i, s["seed"]) for i, row in rows for s in row.get("per_seed", [])
                if s["verdict"] in (PASS, FAIL) and _is_number(s["value"])]
        if not runs or distance is None:
            continue
        value, i, seed = min(runs, key=lambda run: distance(run[0]))
        lines.append(f"`{claim}`: {_fmt(value)} (setting {i}, seed {seed}) vs reported "
                     f"{_fmt(first['reported'])} ({first['tolerance']})")
    if not lines:
        return ""
    total = len(out["rows"]) * out["seeds"]
    head = (f"Held-out headlines that hold under none of the {len(out['rows'])} settings, and "
            f"the run closest to the report among their {total} (profile {out['profile']}):")
    bullet = "- " if markdown else "  "
    return "\n\n" + "\n".join([head, *(bullet + line for line in lines)])


def _distance(reported, tolerance):
    """How far a value lies from the report: from its number, or from the bound a tolerance
    such as "≤ 0.2" states where the report prints no number (None: not comparable)."""
    if _is_number(reported):
        return lambda v: abs(v - reported)
    bound = re.fullmatch(r"([≤≥]) ([-+.\deE]+)", str(tolerance))
    if bound is None:
        return None
    limit = float(bound.group(2))
    return (lambda v: v - limit) if bound.group(1) == "≤" else (lambda v: limit - v)


def _is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _outcome(row):
    return "not run" if row is None else f"{reproduced_cell(row)} ({row['verdict']})"


def _number(value):
    return "inf" if value is None or not math.isfinite(value) else f"{value:.3g}"


def _layout(title, header, body, markdown):
    if markdown:
        return "\n".join([title, "", *markdown_table(header, body)])
    widths = [max(len(row[i]) for row in [header, *body]) for i in range(len(header))]
    return "\n".join([title] + ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip()
                                for row in [header, *body]])


def _grid(grid, trial, parallel):
    """Every setting of `grid`, `parallel` at a time (threads, each waiting on its trial's
    worker processes), in declared order."""
    if parallel == 1:
        for position, setting in enumerate(grid):
            trial(setting, position)
        return
    import concurrent.futures

    pool = concurrent.futures.ThreadPoolExecutor(parallel, thread_name_prefix="trial")
    try:
        for future in [pool.submit(trial, s, i) for i, s in enumerate(grid)]:
            future.result()  # the first failed trial's error, in declared order
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _bayesian(calibration, budget, trial, logdir):
    import keras_tuner as kt

    hp = kt.HyperParameters()
    choices = {name: [json.dumps(v) for v in values] for name, values in
               calibration.space.items()}
    for name, values in choices.items():
        hp.Choice(name, values)
    # keras-tuner starts with 3 random points per hyperparameter: a budget of 12 on 4 would be
    # 12 random draws and no Bayesian step at all. A third of the budget explores at random.
    oracle = kt.oracles.BayesianOptimizationOracle(
        objective=kt.Objective("score", "min"), max_trials=budget, hyperparameters=hp, seed=0,
        num_initial_points=max(2, budget // 3))
    oracle._set_project_dir(str(logdir), "bayesian")
    for _ in range(budget):
        proposal = oracle.create_trial("calibrate")
        if proposal.status == "STOPPED":
            break
        setting = {name: json.loads(proposal.hyperparameters.get(name)) for name in choices}
        value = trial(setting)
        oracle.update_trial(proposal.trial_id, {"score": value if math.isfinite(value) else 1e9})
        oracle.end_trial(proposal)


def _setting_text(setting):
    return ", ".join(f"{k}={v!r}" for k, v in setting.items())


def format_ranking(table, markdown=False):
    """The ranked table: setting, score, each target's value."""
    targets = table["targets"]
    header = ["rank", "setting", "score", *targets]
    reported = ["", "reported", "", *(f"{table['reported'][t]:g} ({table['tolerance'][t]})"
                                      for t in targets)]
    body = [[str(i), _setting_text(r["setting"]), _number(r["score"]),
             *("n/a" if r["values"][t] is None else f"{r['values'][t]:.4g}" for t in targets)]
            for i, r in enumerate(table["rows"], start=1)]
    search = f" — search {table['search']}" if table.get("search") else ""
    unfinished = "" if table.get("complete", True) else ", unfinished"
    title = (f"Calibration of {table['report']}{search} ({table['method']} search{unfinished}, "
             f"{table['trials']} "
             f"trials of {table['space_size']} settings, profile {table['profile']}, "
             f"{table['seeds']} seed{'s' * (table['seeds'] != 1)}); score: mean |value − "
             "reported| / tolerance over the targets, lower is closer")
    return _layout(title, header, [reported, *body], markdown)
