"""Runners: where the independent units of a run — one experiment with one seed — execute.

`Report.run` lists the units still to do (`tfdl.harness.unit.Unit`) and hands them to a runner,
which yields each unit's outcome as it finishes; the report records it at once. Every runner
executes a unit the same way (`tfdl.harness.unit.execute`), so a seed gives the same numbers
in-process, in a process pool or on a Ray worker with the same thread count.

- `InProcess()`: one unit after another in this process (the default).
- `ProcessPool(jobs)`: `--jobs N` local worker processes, for units that cannot use every core.
- `SharedPool(jobs)`: one such pool fed by several reports at once (`tfdl run all`).
- `tfdl.harness.ray_runner.RayRunner`: tasks on a Ray cluster (`--ray ADDRESS`).
"""

import heapq
import itertools
import json
import os
import queue
import sys
import threading
import time
from pathlib import Path

from tfdl.harness.unit import Outcome, error_text, execute


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
        return None, error_text(err)


class ProcessPool:
    """Runs units in `jobs` local worker processes (spawned: each starts its own TensorFlow).
    A unit that raises is recorded as failed and the others go on; a data error stops all."""

    def __init__(self, jobs):
        self.jobs = jobs

    def run(self, units, report):
        import concurrent.futures

        from tfdl.data import DataError

        units = longest_first(list(units), report)
        with _pool(self.jobs) as pool:
            futures = {pool.submit(_worker_execute, unit): unit for unit in units}
            try:
                for future in concurrent.futures.as_completed(futures):
                    entry, error = _result(future)
                    if isinstance(error, DataError):
                        raise error
                    yield Outcome(futures[future], entry=entry, error=error)
            except BaseException:
                for future in futures:
                    future.cancel()
                raise


def _result(future):
    """`(entry, error)` of a finished `_worker_execute`."""
    try:
        return future.result()
    except Exception as err:  # noqa: BLE001  (a worker process died)
        # Mostly the kernel's out-of-memory killer: a TensorFlow worker takes 3-5 GB, and the
        # pool cannot say which signal ended it.
        return None, (f"worker process died ({error_text(err)}); killed for lack of memory? "
                      "fewer --jobs use less")


def _pool(jobs):
    import concurrent.futures
    import multiprocessing

    return concurrent.futures.ProcessPoolExecutor(
        jobs, mp_context=multiprocessing.get_context("spawn"), initializer=exit_with_parent,
        initargs=(os.getpid(),))


class SharedPool:
    """`jobs` local worker processes shared by several reports at once (`tfdl run all`): the
    waiting units of every report form one queue, longest expected first (`expected_seconds`),
    so a report's last long unit runs beside the next report's units instead of beside an idle
    core. `run` is called from one thread per report and yields that report's outcomes; a data
    error stops its own report only. `cancel()` makes every `run` stop (KeyboardInterrupt);
    `close()` ends the workers."""

    def __init__(self, jobs):
        self.jobs = jobs
        self._lock = threading.Lock()
        self._waiting = []  # heap: (-expected seconds, arrival, unit, its run's outcome queue)
        self._arrival = itertools.count()
        self._busy = 0
        self._stop = threading.Event()
        self._executor = None

    def run(self, units, report):
        from tfdl.data import DataError

        units = list(units)
        outcomes = queue.Queue()
        seconds = expected_seconds(units, report)
        with self._lock:
            for unit in units:
                heapq.heappush(self._waiting, (-seconds[unit], next(self._arrival), unit,
                                               outcomes))
        self._start()
        for _ in units:
            while True:
                if self._stop.is_set():
                    raise KeyboardInterrupt
                try:
                    unit, future = outcomes.get(timeout=0.5)
                    break
                except queue.Empty:
                    continue
            self._start()  # here, not in the future's callback: that runs in the pool's thread
            entry, error = _result(future)
            if isinstance(error, DataError):
                self._drop(outcomes)
                raise error
            yield Outcome(unit, entry=entry, error=error)

    def _start(self):
        with self._lock:
            if self._executor is None:
                self._executor = _pool(self.jobs)
            while self._busy < self.jobs and self._waiting and not self._stop.is_set():
                _, _, unit, outcomes = heapq.heappop(self._waiting)
                self._busy += 1
                future = self._executor.submit(_worker_execute, unit)
                future.add_done_callback(lambda f, unit=unit, outcomes=outcomes:
                                         self._finished(unit, f, outcomes))

    def _finished(self, unit, future, outcomes):
        with self._lock:
            self._busy -= 1
        outcomes.put((unit, future))

    def _drop(self, outcomes):
        """Takes a stopped run's units that have not started off the queue."""
        with self._lock:
            self._waiting = [w for w in self._waiting if w[3] is not outcomes]
            heapq.heapify(self._waiting)

    def cancel(self):
        self._stop.set()

    def close(self):
        with self._lock:
            self._waiting.clear()
            if self._executor is not None:
                self._executor.shutdown(wait=False, cancel_futures=True)
                self._executor = None


def longest_first(units, report):
    """`units` in the order a pool should start them: the longest expected first, so that no
    worker sits idle behind one long unit at the end (003's three stand-in units, ~30 min each,
    came last in the declared order). The order changes no number (each unit has its own seed
    and threads) and the record files results by experiment and seed whatever the order."""
    if report is None or len(units) < 2:
        return units
    seconds = expected_seconds(units, report)
    return sorted(units, key=seconds.get, reverse=True)  # stable: ties keep the declared order


def expected_seconds(units, report):
    """`{unit: expected wall seconds}`: the unit's wall time in the run folder's record (a rerun
    over other code), else in the committed record (results/<report>.json), else the mean of
    its experiment's other seeds there; infinity for units with none (they may be long)."""
    if report is None or not units:
        return dict.fromkeys(units, float("inf"))
    records = [Path(units[0].logdir) / "results.json",
               Path(report.script).resolve().parents[1] / "results" / f"{report.name}.json"]
    seconds = {}
    for path in reversed(records):  # the run folder's own times win
        try:
            experiments = json.loads(path.read_text()).get("experiments", {})
        except (OSError, ValueError):
            continue
        for name, by_seed in experiments.items():
            times = {seed: e["wall_s"] for seed, e in by_seed.items() if e.get("wall_s")}
            if times:
                seconds.update({(name, seed): t for seed, t in times.items()})
                seconds[(name, None)] = sum(times.values()) / len(times)

    def expected(unit):
        known = seconds.get((unit.experiment, str(unit.seed)),
                            seconds.get((unit.experiment, None)))
        return float("inf") if known is None else known

    return {unit: expected(unit) for unit in units}


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
