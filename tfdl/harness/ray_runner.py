"""Ray backend of the runner interface: each unit (experiment × seed) is one Ray task.

    pip install -e ".[cpu,cluster]"        # on every node: the same checkout
    ray start --head                       # first node; the others: ray start --address HOST:6379
    tfdl run hw2_mydnn --seeds 10 --ray auto

No shared filesystem is assumed. A task runs in a temporary log directory on its node and
returns its record entry with an archive of what it wrote there (its run directories, and a
cache such as `<logdir>/pretrained/` when it filled one); the driver unpacks the archive into its
own log directory as each task finishes, so the driver ends with what a local run leaves.
Inputs travel the other way: the driver's `<logdir>/pretrained/` (if any) and, for a node
without a data directory of its own (`$TFDL_DATA_DIR` or the `--data-dir` path), the driver's
data directory, through the object store, unpacked once per node and reused.

A task whose worker process dies is retried (`max_retries`, default 2); a small actor on the
driver's node counts each unit's attempts, so the record notes the retries
(`entry["retries"]`). A task that fails every try, or raises, is recorded as failed with its
error and the others go on. A node running other code than the driver refuses its units
(`tfdl.harness.unit.CodeMismatch`: the message is the unit's recorded error).

Ray is imported only here; `tfdl` without `--ray` never imports this module.
"""

import contextlib
import dataclasses
import hashlib
import io
import json
import os
import platform
import shutil
import socket
import tarfile
import tempfile
import threading
from pathlib import Path

from tfdl.harness.runner import longest_first
from tfdl.harness.unit import Outcome, error_text, execute

import ray
import ray.exceptions

MAX_RETRIES = 2
CACHES = ("pretrained",)  # folders under the log directory that experiments read and fill
TASK_PREFIX = "tfdl-ray-"  # a task's temporary log directory on its node
MARKER = ".tfdl-task"  # in it: host, pid, unit and attempt of the task using it


class ClusterError(RuntimeError):
    """No Ray cluster at the address, or one that cannot run a task of the requested size."""


def _key(unit):
    return f"{unit.report}/{unit.experiment}/seed{unit.seed}@{os.path.abspath(unit.logdir)}"


# ---- archives ---------------------------------------------------------------------------------

def _listing(root):
    """`{relative path: (size, mtime_ns)}` of the files under `root` (directories: None)."""
    root = Path(root)
    found = {}
    if root.is_dir():
        for path in sorted(root.rglob("*")):
            if path.is_symlink():
                continue
            rel = path.relative_to(root).as_posix()
            if path.is_dir():
                found[rel] = None
            elif path.is_file():
                stat = path.stat()
                found[rel] = (stat.st_size, stat.st_mtime_ns)
    return found


def signature(root):
    """A short hash of `root`'s listing (names, sizes, modification times)."""
    return hashlib.sha256(json.dumps(_listing(root), sort_keys=True).encode()).hexdigest()[:16]


def pack(root, unchanged=None, exclude=(MARKER,)):
    """Gzipped tar (bytes) of `root`'s files and folders, leaving out those in `unchanged` (a
    `_listing` taken earlier) that have not changed since."""
    root = Path(root)
    unchanged = unchanged or {}
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz", compresslevel=1) as tar:
        for rel, stat in _listing(root).items():
            if rel in exclude or (rel in unchanged and unchanged[rel] == stat):
                continue
            tar.add(root / rel, arcname=rel, recursive=False)
    return buffer.getvalue()


def unpack(data, dest):
    """Extracts a `pack` archive into `dest`; returns the member names."""
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        members = tar.getmembers()
        for member in members:
            parts = Path(member.name).parts
            if (member.name.startswith("/") or ".." in parts
                    or not (member.isfile() or member.isdir())):
                raise ValueError(f"unsafe archive member {member.name!r}")
        if hasattr(tarfile, "data_filter"):
            tar.extractall(dest, members=members, filter="data")
        else:  # Python < 3.10.12 / 3.11.4: members checked above
            tar.extractall(dest, members=members)
    return [m.name for m in members]


def _relocate(value, old, new):
    """`value` with every string path under `old` rewritten to lie under `new`."""
    if isinstance(value, dict):
        return {k: _relocate(v, old, new) for k, v in value.items()}
    if isinstance(value, list):
        return [_relocate(v, old, new) for v in value]
    if isinstance(value, str) and (value == old or value.startswith(old + os.sep)):
        return new + value[len(old):]
    return value


def restore_run(data, logdir, unit):
    """Unpacks a task's archive into the driver's `logdir`. As in a local run, each of the
    unit's run directories (`<experiment>/…/seed<k>`) is emptied first."""
    logdir = Path(logdir)
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        names = tar.getnames()
    seed_dir = f"seed{unit.seed}"
    emptied = set()
    for name in names:
        parts = Path(name).parts
        if parts and parts[0] == unit.experiment and seed_dir in parts:
            run_dir = Path(*parts[:parts.index(seed_dir) + 1])
            if run_dir not in emptied:
                shutil.rmtree(logdir / run_dir, ignore_errors=True)
                emptied.add(run_dir)
    unpack(data, logdir)


# ---- the worker side --------------------------------------------------------------------------

def node_data_dir(unit, source, source_signature, fetch):
    """The data directory a unit uses on this node, and the driver's path it was shipped from
    (None when not shipped).

    The user's `--data-dir` when that path exists here, else this node's own `$TFDL_DATA_DIR`;
    else the driver's data directory `source`, shipped: `fetch()` gives its `pack` archive, which
    is unpacked once per node into `<tmp>/tfdl-ray-data-<hash>` and reused while the driver's
    copy keeps its `source_signature`. Without any, the unit's own setting (loaders then raise
    their usual `DataError`, or use the data shipped inside tfdl).
    """
    if unit.data_dir and Path(unit.data_dir).is_dir():
        return unit.data_dir, None
    own = os.environ.get("TFDL_DATA_DIR")
    if own and Path(own).is_dir():
        return own, None
    if source is None:
        return unit.data_dir, None
    import fcntl

    name = hashlib.sha256(source.encode()).hexdigest()[:12]
    cache = Path(tempfile.gettempdir()) / f"tfdl-ray-data-{name}"
    stamp = cache / ".tfdl-signature"
    with open(f"{cache}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if not (stamp.is_file() and stamp.read_text() == source_signature):
                shutil.rmtree(cache, ignore_errors=True)
                staging = Path(tempfile.mkdtemp(prefix=f"{cache.name}-", dir=cache.parent))
                unpack(fetch(), staging)
                (staging / stamp.name).write_text(source_signature)
                os.replace(staging, cache)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    return str(cache), source


def _sweep(base):
    """Removes task directories on this host whose process has gone (a killed worker's)."""
    for folder in Path(base).glob(f"{TASK_PREFIX}*"):
        try:
            task = json.loads((folder / MARKER).read_text())
            if task["host"] != platform.node():
                continue
            os.kill(task["pid"], 0)
        except ProcessLookupError:
            shutil.rmtree(folder, ignore_errors=True)
        except (OSError, ValueError, KeyError, TypeError):
            continue


def run_task(unit, driver, logdir, data_source):
    """One unit on a worker: returns {"entry", "error", "archive", "attempt"}.

    `unit.logdir` is the driver's log directory as the user wrote it; `logdir` its absolute
    path on the driver's node, where the driver's actor reads the inputs to ship.
    """
    from tfdl.data import DataError

    attempt = ray.get(driver.attempt.remote(_key(unit)))
    base = tempfile.gettempdir()
    _sweep(base)
    tmp = Path(tempfile.mkdtemp(prefix=f"{TASK_PREFIX}{unit.experiment}-seed{unit.seed}-",
                                dir=base))
    try:
        (tmp / MARKER).write_text(json.dumps({
            "host": platform.node(), "pid": os.getpid(), "report": unit.report,
            "experiment": unit.experiment, "seed": unit.seed, "attempt": attempt}))
        for cache in CACHES:
            shipped = ray.get(driver.archive.remote(os.path.join(logdir, cache)))
            if shipped:
                unpack(ray.get(shipped[0]), tmp / cache)
        before = _listing(tmp)
        entry = error = None
        try:
            data_dir, shipped_from = node_data_dir(
                unit, data_source,
                data_source and ray.get(driver.signature.remote(data_source)),
                lambda: ray.get(ray.get(driver.archive.remote(data_source))[0]))
            entry = execute(dataclasses.replace(unit, logdir=str(tmp), data_dir=data_dir))
            # Paths in the metrics name the driver's folders, as in a local run.
            entry["metrics"] = _relocate(entry["metrics"], str(tmp), str(Path(unit.logdir)))
            if shipped_from:
                entry["metrics"] = _relocate(entry["metrics"], data_dir, shipped_from)
        except DataError as err:
            error = err
        except Exception as err:  # noqa: BLE001  (the driver records it; the others go on)
            error = error_text(err)
        return {"entry": entry, "error": error, "attempt": attempt,
                "archive": pack(tmp, unchanged=before) if entry is not None else None}
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


class _Driver:
    """Lives on the driver's node: counts attempts, packs the driver's inputs for the tasks."""

    def __init__(self):
        self._lock = threading.Lock()
        self._packing = threading.Lock()
        self._attempts = {}
        self._archives = {}

    def attempt(self, key):
        with self._lock:
            self._attempts[key] = self._attempts.get(key, 0) + 1
            return self._attempts[key]

    def attempts(self, key):
        return self._attempts.get(key, 0)

    def signature(self, path):
        return signature(path)

    def archive(self, path):
        """`[object ref]` of the folder's `pack` archive (re-packed when it changed), or [] when
        there is no such folder."""
        with self._packing:
            if not Path(path).is_dir():
                return []
            current = signature(path)
            if self._archives.get(path, (None,))[0] != current:
                self._archives[path] = (current, ray.put(pack(path)))
            return [self._archives[path][1]]


# ---- the driver side --------------------------------------------------------------------------

class RayRunner:
    """Runs units as Ray tasks (`num_cpus=cpus_per_task`, `num_gpus=gpus_per_task`).

    Args:
        address: "auto" (the cluster this machine joined with `ray start`) or HOST:PORT of the
            head node.
        cpus_per_task: CPUs each task reserves; also its TensorFlow threads by default.
        gpus_per_task: GPUs each task reserves (fractions share one).
        max_retries: tries after the first when a task's worker process dies.

    Attributes:
        jobs: how many tasks the cluster runs at once.
        threads: TensorFlow threads per unit unless `--threads` says otherwise.

    Raises:
        ClusterError: no cluster at `address`, or no node with the resources of one task.
    """

    def __init__(self, address, cpus_per_task=1, gpus_per_task=0, max_retries=MAX_RETRIES):
        self.address = address
        self.cpus_per_task = cpus_per_task
        self.gpus_per_task = gpus_per_task
        self.max_retries = max_retries
        self.threads = max(1, int(cpus_per_task))
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._driver = None
        self._connected = False
        _check_reachable(address)
        if not ray.is_initialized():
            try:
                ray.init(address=address, log_to_driver=True,
                         configure_logging=True, logging_level="warning")
            except (ConnectionError, ValueError, RuntimeError) as err:
                raise ClusterError(f"cannot connect to a Ray cluster at {address}: "
                                   f"{str(err).splitlines()[0]} (start one with `ray start "
                                   "--head`; pip install -e \".[cluster]\")") from None
            self._connected = True
        nodes = [n["Resources"] for n in ray.nodes() if n.get("Alive")]
        fits = [r for r in nodes if r.get("CPU", 0) >= cpus_per_task
                and r.get("GPU", 0) >= gpus_per_task]
        if not fits:
            self.close()
            raise ClusterError(f"no node of the cluster at {address} has {cpus_per_task} CPUs"
                               + (f" and {gpus_per_task} GPUs" if gpus_per_task else "")
                               + f" for one task; nodes: {_describe(nodes)}")
        self.jobs = max(1, sum(int(min(r.get("CPU", 0) // cpus_per_task,
                                       r.get("GPU", 0) // gpus_per_task if gpus_per_task
                                       else float("inf"))) for r in fits))

    def close(self):
        """Disconnects from the cluster (if this runner connected)."""
        if self._connected:
            ray.shutdown()
            self._connected = False

    def cancel(self):
        """Makes every `run` in progress stop (KeyboardInterrupt) and cancel its tasks."""
        self._stop.set()

    def _actor(self):
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

        with self._lock:
            if self._driver is None:
                here = ray.get_runtime_context().get_node_id()
                self._driver = ray.remote(_Driver).options(
                    num_cpus=0, max_concurrency=16,
                    scheduling_strategy=NodeAffinitySchedulingStrategy(here, soft=False),
                ).remote()
            return self._driver

    def run(self, units, report):
        units = longest_first(list(units), report)
        driver = self._actor()
        task = ray.remote(run_task)
        env_data = os.environ.get("TFDL_DATA_DIR")
        pending = {}
        try:
            for unit in units:
                source = unit.data_dir or env_data
                source = os.path.abspath(source) if source and os.path.isdir(source) else None
                shipped = dataclasses.replace(
                    unit, data_dir=unit.data_dir and os.path.abspath(unit.data_dir))
                ref = task.options(
                    num_cpus=self.cpus_per_task, num_gpus=self.gpus_per_task,
                    max_retries=self.max_retries, retry_exceptions=False,
                    name=f"{unit.report}.{unit.experiment}.seed{unit.seed}",
                ).remote(shipped, driver, os.path.abspath(unit.logdir), source)
                pending[ref] = unit
            while pending:
                if self._stop.is_set():
                    raise KeyboardInterrupt
                done, _ = ray.wait(list(pending), num_returns=1, timeout=0.5)
                for ref in done:
                    yield self._outcome(pending.pop(ref), ref, driver)
        finally:
            for ref in pending:
                with contextlib.suppress(Exception):  # already finished or gone
                    ray.cancel(ref, force=True)

    def _outcome(self, unit, ref, driver):
        from tfdl.data import DataError

        try:
            result = ray.get(ref)
        except ray.exceptions.RayError as err:
            tries = ray.get(driver.attempts.remote(_key(unit)))
            text = (error_text(err).splitlines() or [type(err).__name__])[0]
            return Outcome(unit, error=f"failed on each of {tries} tries "
                                       f"(max_retries={self.max_retries}): {text}",
                           retries=max(0, tries - 1))
        retries = result["attempt"] - 1
        if isinstance(result["error"], DataError):
            raise result["error"]
        if result["entry"] is None:
            return Outcome(unit, error=result["error"], retries=retries)
        restore_run(result["archive"], unit.logdir, unit)
        return Outcome(unit, entry=result["entry"], retries=retries)


def _check_reachable(address, timeout=5):
    """Fails fast when nothing listens at the address Ray will connect to (Ray itself keeps
    retrying for many minutes). Ray rewrites 127.0.0.1 / localhost to this machine's address."""
    if "://" in address:
        return
    if address != "auto":
        host, _, port = address.rpartition(":")
        if not host or not port.isdigit():
            raise ClusterError(f"--ray {address}: expected auto or HOST:PORT of the head node "
                               "(ray start --head prints it; the default port is 6379)")
    try:
        from ray._private.services import canonicalize_bootstrap_address

        target = canonicalize_bootstrap_address(address)
    except Exception:  # noqa: BLE001  (no cluster found for auto: ray.init says so)
        target = None if address == "auto" else address
    if target is None:
        return
    host, _, port = target.rpartition(":")
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=timeout).close()
    except OSError as err:
        via = f" (Ray connects to {target})" if target != address else ""
        raise ClusterError(f"cannot connect to a Ray cluster at {address}{via}: {err}; start "
                           "one with `ray start --head` on that machine") from None


def _describe(nodes):
    return ", ".join(f"{r.get('CPU', 0):g} CPU/{r.get('GPU', 0):g} GPU" for r in nodes) or "none"

