"""The experiment harness: seeding, profiles, resumable result records, headline table.

A reproduction script declares a `Report`, registers one function per experiment of
the report, the claims that check them and the figures they draw, and calls
`REPORT.main()`:

    REPORT = Report("hw2_init_variance", report_file="004_f9be44aaa6a4d347.txt",
                    title="Sharif DL HW2", profiles={"full": {...}, "quick": {...}})

    @REPORT.experiment
    def initialization(ctx):
        ...                      # train with tfdl.training, using ctx.config, ctx.seed
        return {"test_accuracy": {...}}

    REPORT.claim(Claim(...))

Results are written to `<logdir>/results.json` after every experiment and seed, so
an interrupted run loses at most the experiment in progress; rerunning the same
command skips what is already recorded for the same settings and the same code (the
fingerprint: the script, the tfdl modules that compute its numbers, TensorFlow/Keras/NumPy
versions), and reruns the rest
from empty run directories. Each write merges into the file on disk under a lock, so two runs
with different `--only` can share a log directory (e.g. one per CPU core).
"""

import contextlib
import dataclasses
import datetime
import fcntl
import hashlib
import inspect
import json
import os
import platform
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

from tfdl import __version__
from tfdl.analysis import stats
from tfdl.harness import calibration
from tfdl.harness.claims import HEADLINE, NOT_RUN, PROTOCOL, holds
from tfdl.harness.unit import cpu_model

import keras
import numpy as np
import tensorflow as tf

SCHEMA_VERSION = 2  # results.json layout; see `evaluate_claims` and `Report.run`
_DRAWING = threading.Lock()


def set_seed(seed, deterministic=True):
    """Seeds Python, NumPy and TensorFlow, and asks TensorFlow for deterministic ops."""
    keras.utils.set_random_seed(seed)
    if deterministic:
        tf.config.experimental.enable_op_determinism()


@dataclasses.dataclass
class Context:
    """What an experiment function gets: its settings, seed and where to write.

    Attributes:
        config: the profile's settings (a dict).
        profile: "full" or "quick".
        seed: this run's seed.
        logdir: the report's log directory.
        experiment: the experiment's name.
        data_dir: the user's `--data-dir` (None: `$TFDL_DATA_DIR` or embedded data).
        options: values of the report's own command-line options (`Report.option`), by
            their `dest` name (`--faces-dir` -> "faces_dir"); None when not given.
    """

    config: dict
    profile: str
    seed: int
    logdir: Path
    experiment: str
    data_dir: str | None = None
    options: dict = dataclasses.field(default_factory=dict)
    _emptied: set = dataclasses.field(default_factory=set, repr=False)

    def run_dir(self, *parts):
        """TensorBoard run directory `<logdir>/<experiment>/<parts...>/seed<seed>`.

        The first call for a path in this run empties it, so a rerun (say, after an
        interrupted one) never leaves TensorBoard two event files for one run.
        """
        path = self.logdir.joinpath(self.experiment, *map(str, parts), f"seed{self.seed}")
        if path not in self._emptied:
            shutil.rmtree(path, ignore_errors=True)
            self._emptied.add(path)
        path.mkdir(parents=True, exist_ok=True)
        return path

    def log(self, message):
        print(f"  [{self.experiment}] {message}", file=sys.stderr, flush=True)


@dataclasses.dataclass
class _Experiment:
    name: str
    fn: object
    doc: str


class Report:
    """A report's reproduction: experiments, claims and figures.

    Args:
        name: the script's name, also the default log directory under `logs/` (see
            `default_logdir`).
        report_file: the report's file in `shared/reports/`.
        title: the report's title.
        profiles: `{"full": {...}, "quick": {...}}` settings dicts.
    """

    def __init__(self, name, report_file, title, profiles):
        self.name = name
        self.report_file = report_file
        self.title = title
        self.profiles = profiles
        self.experiments = {}
        self.claims = []
        self.figures = []
        self.options = []
        self.calibration = None
        # The script that declares this report (part of the fingerprint) and its module's
        # namespace, where `--set` changes an Inferred constant.
        caller = sys._getframe(1).f_globals
        self.script = Path(caller.get("__file__", "")).resolve()
        self.globals = caller

    def option(self, *flags, **kwargs):
        """Declares an extra command-line option of this report (`argparse.add_argument`
        arguments); its value reaches experiments as `ctx.options[dest]`.

        Example: `REPORT.option("--faces-dir", metavar="DIR", help="...")`.
        """
        self.options.append((flags, kwargs))

    def experiment(self, fn):
        """Decorator registering `fn(ctx) -> metrics dict` as an experiment, in order."""
        doc = inspect.getdoc(fn) or ""
        first_line = doc.splitlines()[0] if doc else ""
        self.experiments[fn.__name__] = _Experiment(fn.__name__, fn, first_line)
        return fn

    def claim(self, *claims):
        for claim in claims:
            if claim.experiment not in self.experiments:
                raise ValueError(f"claim {claim.id} names unknown experiment {claim.experiment}")
            self.claims.append(claim)

    def calibrate(self, calibration):
        """Declares the report's calibration search (`tfdl.harness.calibration.Calibration`): its
        targets are marked "calibrated" in the table, every other claim "held out"."""
        unknown = [t for t in calibration.targets if t not in {c.id for c in self.claims}]
        if unknown or calibration.experiment not in self.experiments:
            raise ValueError(f"calibration names unknown claims or experiment: "
                             f"{', '.join(unknown) or calibration.experiment}")
        self.calibration = calibration

    def figure(self, *needs):
        """Decorator registering `fn(record, outdir)`, drawing figures from the experiments
        `needs` (names); it is drawn when all of them are recorded, and skipped otherwise.

        Example: `@REPORT.figure("batch_size", "learning_rate")`.
        """
        if not needs or not all(isinstance(n, str) for n in needs):
            raise TypeError("REPORT.figure takes the names of the experiments the figure reads: "
                            "@REPORT.figure('experiment', ...)")
        unknown = [n for n in needs if n not in self.experiments]
        if unknown:
            raise ValueError(f"figure needs unknown experiment {', '.join(unknown)}")

        def register(fn):
            self.figures.append((needs, fn))
            return fn

        return register

    def fingerprint(self):
        """Hash of the code a run executes: this script, tfdl's sources and the versions of
        TensorFlow, Keras and NumPy. A recorded result with another fingerprint is stale."""
        from tfdl.harness.fingerprint import code_fingerprint

        return code_fingerprint(self.script)

    def main(self, argv=None):
        """Command-line entry point; returns the exit code (0 iff every headline holds)."""
        from tfdl.harness import cli

        return cli.run_report(self, argv)

    def run(self, profile="full", only=None, seeds=1, logdir=None, data_dir=None, fresh=False,
            options=None, runner=None, threads=None, overrides=None):
        """Runs the experiments, records results, evaluates the claims.

        Args:
            runner: where the units (experiment × seed) execute: a `tfdl.harness.runner` runner
                (default `InProcess()`, one after another in this process).
            threads: TensorFlow threads per unit (default: the runner's `threads` if it has
                one, as `RayRunner` does, else the cores divided by the runner's parallel units).
            overrides: `{name: value}` of `--set` (checked by `tfdl.harness.settings.parse`): a
                modified protocol, recorded as such.

        Returns:
            The results record (a dict, as written to `results.json`).
        """
        from tfdl.harness import runner as runners
        from tfdl.harness.unit import Unit

        runner = runner or runners.InProcess()
        threads = (threads or getattr(runner, "threads", None)
                   or runners.default_threads(runner.jobs))
        logdir = Path(logdir or default_logdir(self.name, profile))
        logdir.mkdir(parents=True, exist_ok=True)
        path = logdir / "results.json"
        names = list(only or self.experiments)
        _refuse_to_replace(self, path, profile, fresh)
        record = _load_or_start(self, path, profile, fresh)
        if fresh:
            write_json_atomic(path, record)
        seed_list = list(range(seeds))
        record["seeds"] = sorted(set(record.get("seeds", [])) | set(seed_list))
        config = self.profiles[profile]
        fingerprint = self.fingerprint()
        started, origin = time.perf_counter(), provenance()
        units, headings = [], {}
        overrides = dict(overrides or {})
        for index, name in enumerate(names, start=1):
            settings = _settings_hash(config, name, options, overrides)
            for seed in seed_list:
                done = record["experiments"].get(name, {}).get(str(seed))
                heading = f"[{index}/{len(names)}] {name} (seed {seed})"
                if done and done["settings"] == settings and done.get("fingerprint") == fingerprint:
                    print(f"{heading}: recorded in {path}, skipped (--fresh reruns it)",
                          file=sys.stderr)
                    continue
                if done:
                    print(f"{heading}: recorded with other code or settings, rerunning",
                          file=sys.stderr)
                unit = Unit(self.name, str(self.script), name, seed, profile,
                                    str(logdir), fingerprint,
                                    threads, data_dir, tuple(sorted((options or {}).items())),
                                    json.dumps(overrides, sort_keys=True))
                units.append(unit)
                headings[unit] = (heading, settings)
        if units and runner.jobs > 1:
            print(f"{len(units)} units on {runner.jobs} workers, {threads} TensorFlow threads "
                  "each", file=sys.stderr, flush=True)

        def outcomes():
            for unit in units:  # in-process: announce each unit as it starts
                if runner.jobs == 1:
                    heading = headings[unit][0]
                    print(f"{heading}: {self.experiments[unit.experiment].doc}", file=sys.stderr,
                          flush=True)
                yield unit

        for outcome in runner.run(outcomes(), self):
            heading, settings = headings[outcome.unit]
            key = f"{outcome.unit.experiment}/{outcome.unit.seed}"
            if outcome.entry is None:
                print(f"{heading}: FAILED: {outcome.error}", file=sys.stderr, flush=True)

                def failed(r, key=key, outcome=outcome):
                    r.setdefault("failures", {})[key] = {"error": outcome.error,
                                                         "retries": outcome.retries}

                record = _update_record(self, path, record, failed)
                continue
            print(f"{heading}: done in {outcome.entry['wall_s']:.0f}s", file=sys.stderr,
                  flush=True)
            entry = {"settings": settings, **outcome.entry}
            if outcome.retries:
                entry["retries"] = outcome.retries

            def add(r, unit=outcome.unit, entry=entry, key=key):
                r["experiments"].setdefault(unit.experiment, {})[str(unit.seed)] = entry
                r.get("failures", {}).pop(key, None)

            record = _update_record(self, path, record, add)

        def finish(r):
            r["fingerprint"] = fingerprint
            r["overrides"] = modifications(r)
            # The profile as it ran: the script's values with the --set profile keys applied.
            r["config"] = {**config, **{k: v for k, v in overrides.items() if k in config}}
            r["headlines"] = evaluate_claims(self.claims, r, fingerprint)
            calibration.mark_roles(self, r["headlines"])
            if units:  # the newest results are this run's (a resumed record began earlier)
                r.update(origin)
                r["run_wall_s"] = round(time.perf_counter() - started, 1)

        record = _update_record(self, path, record, finish)
        for needs, draw in self.figures:
            if all(name in record["experiments"] for name in needs):
                with _DRAWING:  # pyplot is not thread-safe; `tfdl run all --ray` uses threads
                    draw(record, logdir)
        return record


def evaluate_claims(claims, record, fingerprint=None):
    """The table's rows: every claim whose experiment has results in `record`, evaluated on
    each recorded seed (see `Claim.evaluate`). With `fingerprint` (the current code's), a row
    resting on a result recorded with other code is marked `stale`."""
    rows = []
    for claim in claims:
        per_seed = record["experiments"].get(claim.experiment, {})
        seeds = [str(s) for s in record["seeds"] if str(s) in per_seed]
        if not seeds or not claim.applies_to(record.get("profile")):
            continue
        row = claim.evaluate({s: per_seed[s]["metrics"] for s in seeds})
        if fingerprint is not None:
            row["stale"] = any(per_seed[s].get("fingerprint") != fingerprint for s in seeds)
        rows.append(row)
    return rows


def modifications(record):
    """`{name: value}` of every `--set` any recorded result ran with (empty: the report's
    protocol as the script states it)."""
    found = {}
    for by_seed in record.get("experiments", {}).values():
        for entry in by_seed.values():
            found.update(entry.get("overrides", {}))
    return found


def all_hold(record):
    """True iff at least one headline was checked and every checked headline and protocol
    check holds and no unit failed (own checks and rows whose experiment could not run do not
    count)."""
    rows = [r for r in record.get("headlines", [])
            if r["kind"] in (HEADLINE, PROTOCOL) and r["verdict"] != NOT_RUN]
    return (not record.get("failures") and any(r["kind"] == HEADLINE for r in rows)
            and all(holds(r) for r in rows))


def seed_metrics(record, experiment):
    """The metrics of every recorded seed of `experiment`, in seed order."""
    per_seed = record["experiments"][experiment]
    return [per_seed[s]["metrics"] for s in sorted(per_seed, key=int)]


def mean_metrics(record, experiment):
    return stats.mean_nested(seed_metrics(record, experiment))


def _update_record(report, path, record, change):
    """Applies `change(record)` to the record on disk and writes it back, under a lock.

    The file on disk is the base, so what another process recorded meanwhile is kept (every
    entry this process recorded is already there). Returns the updated record.
    """
    with _locked(path):
        on_disk = _load_or_start(report, path, record["profile"], fresh=False)
        if on_disk["experiments"]:
            on_disk["seeds"] = sorted(set(record["seeds"]) | set(on_disk["seeds"]))
            record = on_disk
        change(record)
        write_json_atomic(path, record)
    return record


@contextlib.contextmanager
def _locked(path):
    path = Path(path)
    with open(path.parent / f".{path.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def default_logdir(name, profile):
    """`logs/<report>` for the full protocol, `logs/<report>-<profile>` for another profile: a
    quick look never replaces a full run's record."""
    return Path("logs") / (name if profile == "full" else f"{name}-{profile}")


class RecordClash(ValueError):
    """The log directory holds another profile's or another report's record."""


def _refuse_to_replace(report, path, profile, fresh):
    if fresh or not path.is_file():
        return
    try:
        record = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError):
        return  # unreadable: moved aside by _load_or_start
    theirs = (record.get("report"), record.get("profile"))
    if theirs != (report.name, profile) and record.get("experiments"):
        raise RecordClash(f"{path} holds the {theirs[1]} profile's record of {theirs[0]}; "
                          "run with another --logdir, or --fresh to replace it")


def _load_or_start(report, path, profile, fresh):
    if path.is_file() and not fresh:
        try:
            record = json.loads(path.read_text())
        except (json.JSONDecodeError, UnicodeDecodeError):
            record = None
            aside = path.with_name(f"{path.name}.corrupt-{time.strftime('%Y%m%dT%H%M%S')}")
            os.replace(path, aside)
            print(f"warning: {path} is unreadable; moved to {aside.name}, starting a new record",
                  file=sys.stderr)
        if record and record.get("profile") == profile and record.get("report") == report.name:
            record["schema_version"] = SCHEMA_VERSION
            return record
    return {
        "schema_version": SCHEMA_VERSION,
        "report": report.name,
        "report_file": report.report_file,
        "title": report.title,
        "profile": profile,
        "seeds": [],
        **provenance(),
        "experiments": {},
    }


def provenance():
    """Who computed a record's results: versions, machine, start time and command line."""
    return {
        "versions": {
            "tfdl": __version__, "tensorflow": tf.__version__, "keras": keras.__version__,
            "numpy": np.__version__, "python": platform.python_version(),
            "constraints": constraints_hash(),
        },
        "machine": f"{platform.machine()} ({cpu_model()}), {os.cpu_count()} CPU cores, "
                   f"{'GPU' if tf.config.list_physical_devices('GPU') else 'no GPU'}",
        "started": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "command": " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]) if sys.argv else "",
    }


def _settings_hash(config, experiment, options=None, overrides=None):
    source = json.dumps(config, sort_keys=True, default=str) + experiment
    if options and any(v is not None for v in options.values()):
        source += json.dumps(options, sort_keys=True, default=str)
    if overrides:
        source += "--set" + json.dumps(overrides, sort_keys=True, default=str)
    return hashlib.sha256(source.encode()).hexdigest()[:16]


def constraints_hash():
    """SHA-256 (first 16 hex digits) of the checkout's constraints.txt, the pinned versions the
    committed records were made with; None when tfdl is not run from a checkout."""
    path = Path(__file__).resolve().parents[2] / "constraints.txt"
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16] if path.is_file() else None


def _jsonable(value):
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


def write_json_atomic(path, data):
    """Writes JSON so that a reader (or a crash) never sees a half-written file."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(_jsonable(data), f, indent=1)
            f.flush()
            os.fsync(f.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes it 0600; readable like other outputs
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
