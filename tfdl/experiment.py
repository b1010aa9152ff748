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
command skips what is already recorded for the same settings. Each write merges into the
file on disk under a lock, so two runs with different `--only` can share a log directory
(e.g. one per CPU core).
"""

import contextlib
import dataclasses
import fcntl
import hashlib
import inspect
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from tfdl import __version__, stats


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

    def run_dir(self, *parts):
        """TensorBoard run directory `<logdir>/<experiment>/<parts...>/seed<seed>`."""
        path = self.logdir.joinpath(self.experiment, *map(str, parts), f"seed{self.seed}")
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
        name: the script's name, also the default log directory under `logs/`.
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

    def option(self, *flags, **kwargs):
        """Declares an extra command-line option of this report (`argparse.add_argument`
        arguments); its value reaches experiments as `ctx.options[dest]`.

        Example: `REPORT.option("--faces-dir", metavar="DIR", help="...")`.
        """
        self.options.append((flags, kwargs))

    def experiment(self, fn):
        """Decorator registering `fn(ctx) -> metrics dict` as an experiment, in order."""
        doc = inspect.getdoc(fn) or ""
        self.experiments[fn.__name__] = _Experiment(fn.__name__, fn, doc.splitlines()[0] if doc else "")
        return fn

    def claim(self, *claims):
        for claim in claims:
            if claim.experiment not in self.experiments:
                raise ValueError(f"claim {claim.id} names unknown experiment {claim.experiment}")
            self.claims.append(claim)

    def figure(self, fn):
        """Decorator registering `fn(results, outdir)` drawing figures from the results."""
        self.figures.append(fn)
        return fn

    def main(self, argv=None):
        """Command-line entry point; returns the exit code (0 iff every headline holds)."""
        from tfdl import cli

        return cli.run_report(self, argv)

    def run(self, profile="full", only=None, seeds=1, logdir=None, data_dir=None, fresh=False,
            options=None):
        """Runs the experiments, records results, evaluates the claims.

        Returns:
            The results record (a dict, as written to `results.json`).
        """
        logdir = Path(logdir or Path("logs") / self.name)
        logdir.mkdir(parents=True, exist_ok=True)
        names = list(only or self.experiments)
        record = _load_or_start(self, logdir / "results.json", profile, fresh)
        if fresh:
            write_json_atomic(logdir / "results.json", record)
        seed_list = list(range(seeds))
        record["seeds"] = sorted(set(record.get("seeds", [])) | set(seed_list))
        config = self.profiles[profile]
        started = time.perf_counter()
        for index, name in enumerate(names, start=1):
            experiment = self.experiments[name]
            settings = _settings_hash(config, experiment.fn, options)
            for seed in seed_list:
                done = record["experiments"].get(name, {}).get(str(seed))
                heading = f"[{index}/{len(names)}] {name} (seed {seed})"
                if done and done["settings"] == settings:
                    print(f"{heading}: recorded in {logdir / 'results.json'}, skipped "
                          "(--fresh reruns it)", file=sys.stderr)
                    continue
                print(f"{heading}: {experiment.doc}", file=sys.stderr, flush=True)
                set_seed(seed)
                ctx = Context(config=config, profile=profile, seed=seed, logdir=logdir,
                              experiment=name, data_dir=data_dir, options=dict(options or {}))
                t0 = time.perf_counter()
                metrics = experiment.fn(ctx)
                wall = time.perf_counter() - t0
                print(f"{heading}: done in {wall:.0f}s", file=sys.stderr, flush=True)
                entry = {"settings": settings, "wall_s": round(wall, 2),
                         "metrics": _jsonable(metrics)}

                def add(r, name=name, seed=seed, entry=entry):
                    r["experiments"].setdefault(name, {})[str(seed)] = entry

                record = _update_record(self, logdir / "results.json", record, add)

        def finish(r):
            r["headlines"] = evaluate_claims(self.claims, r)
            r["run_wall_s"] = round(time.perf_counter() - started, 1)

        record = _update_record(self, logdir / "results.json", record, finish)
        for draw in self.figures:
            try:
                draw(record, logdir)
            except KeyError:
                pass  # an experiment this figure needs was not run (--only)
        return record


def evaluate_claims(claims, record):
    """Headline rows for every claim whose experiment has results in `record`."""
    rows = []
    for claim in claims:
        per_seed = record["experiments"].get(claim.experiment, {})
        seeds = [str(s) for s in record["seeds"] if str(s) in per_seed]
        if not seeds or not claim.applies_to(record.get("profile")):
            continue
        seed_metrics = [per_seed[s]["metrics"] for s in seeds]
        row = claim.evaluate(stats.mean_nested(seed_metrics), seed_metrics)
        row["seeds"] = len(seeds)
        rows.append(row)
    return rows


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


def _load_or_start(report, path, profile, fresh):
    if path.is_file() and not fresh:
        try:
            record = json.loads(path.read_text())
        except json.JSONDecodeError:
            record = None
            print(f"{path} is unreadable; starting a new record", file=sys.stderr)
        if record and record.get("profile") == profile and record.get("report") == report.name:
            return record
    return {
        "report": report.name,
        "report_file": report.report_file,
        "title": report.title,
        "profile": profile,
        "seeds": [],
        "versions": {
            "tfdl": __version__, "tensorflow": tf.__version__, "keras": keras.__version__,
            "numpy": np.__version__, "python": platform.python_version(),
        },
        "machine": f"{platform.machine()}, {os.cpu_count()} CPU cores, "
                   f"{'GPU' if tf.config.list_physical_devices('GPU') else 'no GPU'}",
        "experiments": {},
    }


def _settings_hash(config, fn, options=None):
    source = json.dumps(config, sort_keys=True, default=str) + inspect.getsource(fn)
    if options and any(v is not None for v in options.values()):
        source += json.dumps(options, sort_keys=True, default=str)
    return hashlib.sha256(source.encode()).hexdigest()[:16]


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
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
