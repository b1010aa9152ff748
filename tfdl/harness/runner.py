"""Runners: where the independent units of a run — one experiment with one seed — execute.

`Report.run` lists the units still to do and hands them to a runner, which yields each unit's
outcome as it finishes; the report records it at once. Every runner executes a unit the same
way (`execute`): TensorFlow's thread counts pinned, the seed set, the experiment function called
with a fresh `Context`. So a seed gives the same numbers in-process, in a process pool or on a
Ray worker with the same thread count.

- `InProcess()`: one unit after another in this process (the default).
- `ProcessPool(jobs)`: `--jobs N` local worker processes, for units that cannot use every core.
- `tfdl.harness.ray_runner.RayRunner`: tasks on a Ray cluster (`--ray ADDRESS`).
"""

import dataclasses
import json
import os
import platform
import sys
import time
import traceback


@dataclasses.dataclass(frozen=True)
class Unit:
    """One experiment with one seed, described by plain values so it can travel to a worker.

    Attributes:
        report: the reproduction script's name (`reproductions/<report>.py`).
        script: its path on the driver; a worker whose machine has no file there loads
            `reproductions/<report>.py` of its own checkout instead.
        experiment: the experiment's name.
        seed: the seed.
        profile: the profile's name.
        logdir: the run's log directory (on the worker: where the run directories go).
        fingerprint: the driver's code fingerprint; a worker running other code refuses.
        threads: TensorFlow's intra- and inter-op threads for this unit.
        data_dir: the user's `--data-dir`, if any.
        options: the report's own options.
        overrides: `--set` values, `{name: value}` as JSON text (see `tfdl.harness.settings`).
    """

    report: str
    script: str
    experiment: str
    seed: int
    profile: str
    logdir: str
    fingerprint: str
    threads: int
    data_dir: str | None = None
    options: tuple = ()
    overrides: str = "{}"


@dataclasses.dataclass
class Outcome:
    """What a unit gave: its record entry, or the error that stopped it."""

    unit: Unit
    entry: dict | None = None
    error: str | None = None
    exception: BaseException | None = None
    retries: int = 0


class CodeMismatch(RuntimeError):
    """A worker runs other code than the driver (another fingerprint)."""


def pin_threads(threads):
    """Pins TensorFlow's thread pools; returns the intra-op count in force (TensorFlow keeps
    the first setting once its runtime has started)."""
    import tensorflow as tf

    try:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)
    except RuntimeError:
        pass
    return tf.config.threading.get_intra_op_parallelism_threads() or os.cpu_count()


def device_name():
    """The device a unit ran on: the GPU's name, or the CPU."""
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    if gpus:
        details = tf.config.experimental.get_device_details(gpus[0])
        return details.get("device_name", "GPU")
    return f"CPU ({platform.processor() or platform.machine()})"


_REPORTS = {}  # name -> (Report, fingerprint of the code loaded), once per worker process


def _report(unit):
    """The unit's report as this process loaded it, and the fingerprint of that code (taken
    at load time: an edit of the files afterwards does not change what runs here)."""
    if unit.report not in _REPORTS:
        from pathlib import Path

        from tfdl.harness import cli

        script = Path(unit.script)
        report = cli._load(script) if script.is_file() else cli.load_report(unit.report)
        _REPORTS[unit.report] = (report, report.fingerprint())
    return _REPORTS[unit.report]


def execute(unit, report=None):
    """Runs `unit` here and returns its record entry.

    `report`: the driver's own `Report` (in-process: the code loaded when the run started).
    Without it — in a worker — the script is loaded here, and refused if its code is not the
    driver's (another fingerprint).
    """
    from pathlib import Path

    from tfdl.harness import settings
    from tfdl.harness.experiment import Context, _jsonable, set_seed

    if report is None:
        report, fingerprint = _report(unit)
        if fingerprint != unit.fingerprint:
            raise CodeMismatch(f"{platform.node()} runs other tfdl code than the driver "
                               f"(fingerprint {fingerprint}, driver {unit.fingerprint}): "
                               "install the same checkout on every node")
    threads = pin_threads(unit.threads)
    set_seed(unit.seed)
    overrides = json.loads(unit.overrides)
    with settings.applied(report, unit.profile, overrides) as config:
        ctx = Context(config=config, profile=unit.profile, seed=unit.seed,
                      logdir=Path(unit.logdir), experiment=unit.experiment,
                      data_dir=unit.data_dir, options=dict(unit.options))
        started = time.perf_counter()
        metrics = report.experiments[unit.experiment].fn(ctx)
    entry = {"fingerprint": unit.fingerprint, "wall_s": round(time.perf_counter() - started, 2),
             "threads": threads, "device": device_name(), "host": platform.node(),
             "metrics": _jsonable(metrics)}
    if overrides:
        entry["overrides"] = overrides
    return entry


def _error_text(err):
    return "".join(traceback.format_exception_only(type(err), err)).strip()


class InProcess:
    """Runs units one after another in this process; errors propagate to the caller."""

    jobs = 1

    def run(self, units, report):
        for unit in units:
            yield Outcome(unit, entry=execute(unit, report))


def _worker_execute(unit):
    try:
        return execute(unit), None
    except Exception as err:  # noqa: BLE001  (reported back to the driver, not swallowed)
        from tfdl.data import DataError

        if isinstance(err, DataError):
            return None, err
        return None, _error_text(err)


class ProcessPool:
    """Runs units in `jobs` local worker processes (spawned: each starts its own TensorFlow).
    A unit that raises is recorded as failed and the others go on; a data error stops all."""

    def __init__(self, jobs):
        self.jobs = jobs

    def run(self, units, report):
        import concurrent.futures
        import multiprocessing

        from tfdl.data import DataError

        context = multiprocessing.get_context("spawn")
        with concurrent.futures.ProcessPoolExecutor(self.jobs, mp_context=context,
                                                    initializer=exit_with_parent,
                                                    initargs=(os.getpid(),)) as pool:
            futures = {pool.submit(_worker_execute, unit): unit for unit in units}
            try:
                for future in concurrent.futures.as_completed(futures):
                    unit = futures[future]
                    try:
                        entry, error = future.result()
                    except Exception as err:  # noqa: BLE001  (a worker process died)
                        entry, error = None, f"worker process died: {_error_text(err)}"
                    if isinstance(error, DataError):
                        raise error
                    yield Outcome(unit, entry=entry, error=error)
            except BaseException:
                for future in futures:
                    future.cancel()
                raise


def exit_with_parent(parent):
    """Ends this worker process within a second of its parent's end: a driver stopped by
    `kill` (SIGTERM) does not shut its pool down, and orphaned workers would go on computing."""
    import threading

    def watch():
        while os.getppid() == parent:
            time.sleep(1)
        os._exit(1)

    threading.Thread(target=watch, daemon=True, name="exit-with-parent").start()


def default_threads(jobs):
    """TensorFlow threads per unit when `jobs` units share this machine's cores."""
    return max(1, (os.cpu_count() or 1) // jobs)


def stderr(message):
    print(message, file=sys.stderr, flush=True)
