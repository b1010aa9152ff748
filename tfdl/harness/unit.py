"""A unit of a run — one experiment with one seed — and how every runner executes it.

`execute` pins TensorFlow's thread counts, sets the seed and calls the experiment function with
a fresh `Context`, so a seed gives the same numbers in-process, in a process pool or on a Ray
worker with the same thread count. This module computes numbers (it is part of a record's
fingerprint); the runners that only carry units to a process (`tfdl.harness.runner`,
`tfdl.harness.ray_runner`) are not.
"""

import dataclasses
import json
import os
import platform
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
    return f"CPU ({cpu_model()})"


def cpu_model():
    """The CPU's model name and widest vector extension, e.g. "AMD EPYC, avx512": float
    results can differ in the last bits between CPU generations (other kernels, other
    summation orders), so records say which one computed them."""
    name, flags = platform.processor() or platform.machine(), set()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                key, _, value = line.partition(":")
                if key.strip() == "model name":
                    name = value.strip()
                elif key.strip() == "flags":
                    flags = set(value.split())
                    break
    except OSError:
        pass
    vector = next((v for v in ("avx512f", "avx2", "avx") if v in flags), None)
    return f"{name}, {vector.removesuffix('f')}" if vector else name


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


def error_text(err):
    return "".join(traceback.format_exception_only(type(err), err)).strip()
