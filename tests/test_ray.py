"""The Ray backend (`--ray`) on a real two-node cluster on this machine (loopback).

A head and a second node, each with num_cpus=1 and its own temporary directories (no logdir, no
data directory shared with the driver: the driver's data is shipped), run report 003's `epochs`
experiment (quick profile, ~3 s in-process) with 2 seeds; every recorded value must equal the
in-process run's. A worker killed inside the experiment function is retried and the record
notes the retry. The cluster is always stopped. Without Ray the tests skip, saying why; under
CI (CI=true, which installs the cluster extra) they fail instead.
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from tfdl.harness import cli
from tfdl.harness.experiment import Report
from tfdl.harness.unit import Unit

import pytest

try:
    from tfdl.harness import ray_runner

    import ray
    from ray.cluster_utils import Cluster
except ImportError as err:
    if os.environ.get("CI") == "true":
        raise RuntimeError(f"Ray is not installed ({err}), and CI must run the Ray tests: "
                           ".ci/run installs the cluster extra") from err
    pytest.skip(f"Ray is not installed ({err}): pip install -e \".[cluster]\"",
                allow_module_level=True)

REPORT, EXPERIMENT = "ex4_mlp_cnn", "epochs"
ARGS = ["--only", EXPERIMENT, "--profile", "quick", "--seeds", "2", "--threads", "1"]


def _skip(reason):
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason}; CI must run the Ray tests")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def cluster():
    """(address, base folder, connected RayRunner): a head and one more node, 1 CPU each. The
    tests share this driver connection (one Ray job: its worker processes are reused), as the
    CLI's runners do when Ray is already connected."""
    source = os.environ.get("TFDL_DATA_DIR")
    if not source or not (Path(source) / "europe").is_dir():
        _skip("TFDL_DATA_DIR with europe/ is needed (a checkout's ../shared/data)")
    base = Path(tempfile.mkdtemp(prefix="tfdl-ray-test-"))  # short: Ray's socket paths
    data = base / "driver-data"
    shutil.copytree(Path(source) / "europe", data / "europe")
    saved = dict(os.environ)
    started = connected = None
    try:
        os.environ["RAY_TMPDIR"] = str(base)  # Ray's address file: not the machine's /tmp/ray
        (base / "ray").mkdir()
        os.environ.pop("TFDL_DATA_DIR")  # the nodes have no data: the driver's is shipped
        os.environ.pop("RAY_ADDRESS", None)
        for name in ("head", "node"):
            (base / f"tmp-{name}").mkdir()
            os.environ["TMPDIR"] = str(base / f"tmp-{name}")  # each node's tasks write here
            # This machine's own address: Ray rewrites 127.0.0.1 to it when connecting.
            args = {"num_cpus": 1, "temp_dir": str(base / f"ray-{name}")}
            if started is None:
                started = Cluster(initialize_head=True, connect=False,
                                  head_node_args={**args, "include_dashboard": False})
            else:
                started.add_node(**args)
        started.wait_for_nodes()
        if "TMPDIR" in saved:
            os.environ["TMPDIR"] = saved["TMPDIR"]
        else:
            del os.environ["TMPDIR"]
        os.environ["TFDL_DATA_DIR"] = str(data)  # the driver's
        connected = ray_runner.RayRunner(started.address)
        yield started.address, base, connected
    finally:
        if connected is not None:
            connected.close()
        ray.shutdown()
        if started is not None:
            started.shutdown()
        os.environ.clear()
        os.environ.update(saved)
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="module")
def local(cluster, tmp_path_factory):
    """The in-process run's log directory and record (a fresh process: TensorFlow's threads
    are pinned before its runtime starts, as in a user's run)."""
    logdir = tmp_path_factory.mktemp("local")
    script = cli.reproductions_dir() / f"{REPORT}.py"
    subprocess.run([sys.executable, str(script), *ARGS, "--jobs", "1", "--logdir", str(logdir)],
                   check=False, timeout=300, stdout=subprocess.DEVNULL)
    return logdir, json.loads((logdir / "results.json").read_text())


def _files(logdir):
    """Run directories with their file counts (event file names hold host, pid and time)."""
    logdir = Path(logdir)
    return {p.parent.relative_to(logdir).as_posix(): len(list(p.parent.iterdir()))
            for p in logdir.rglob("*") if p.is_file() and not p.name.startswith(".")}


TIMINGS = {"wall_s", "cpu_s", "steps_per_s"}  # measured, not computed: they differ run to run


def _values(metrics):
    if isinstance(metrics, dict):
        return {k: _values(v) for k, v in metrics.items() if k not in TIMINGS}
    if isinstance(metrics, list):
        return [_values(v) for v in metrics]
    return metrics


def _same_entries(mine, theirs, retried=()):
    for seed in ("0", "1"):
        a, b = mine["experiments"][EXPERIMENT][seed], theirs["experiments"][EXPERIMENT][seed]
        assert _values(a["metrics"]) == _values(b["metrics"]), f"seed {seed}: values differ"
        assert a["metrics"]["curves"]["val"]["loss"] and a["metrics"]["train"]["loss"]
        assert (a["settings"], a["fingerprint"], a["threads"], a["device"]) == \
               (b["settings"], b["fingerprint"], b["threads"], b["device"])
        assert a.get("retries", 0) == (1 if seed in retried else 0)
    assert mine["headlines"] == theirs["headlines"]


def test_a_cluster_run_records_what_an_in_process_run_does(cluster, local, tmp_path, capsys):
    address, base, _ = cluster
    local_dir, expected = local
    logdir = tmp_path / "ray"
    assert cli.run_report(cli.load_report(REPORT), [*ARGS, "--ray", address,
                                                    "--logdir", str(logdir)]) in (0, 1)
    record = json.loads((logdir / "results.json").read_text())
    _same_entries(record, expected)
    assert "failures" not in record
    assert _files(logdir) == _files(local_dir)  # run directories and figures came back
    assert sorted(p.name for p in logdir.glob("*.png")) == \
           sorted(p.name for p in local_dir.glob("*.png"))
    # The nodes had no data directory: the driver's came through the object store.
    assert list(base.glob("tmp-*/tfdl-ray-data-*/europe/train.csv"))
    assert not list(base.glob("tmp-*/tfdl-ray-epochs-*"))  # task directories are removed
    # Resume across modes: a local rerun skips what the cluster recorded, and the reverse.
    capsys.readouterr()
    assert cli.run_report(cli.load_report(REPORT), [*ARGS, "--jobs", "1",
                                                    "--logdir", str(logdir)]) in (0, 1)
    assert cli.run_report(cli.load_report(REPORT), [*ARGS, "--ray", address,
                                                    "--logdir", str(local_dir)]) in (0, 1)
    assert capsys.readouterr().err.count("skipped") == 4
    assert json.loads((logdir / "results.json").read_text())["experiments"] == \
           record["experiments"]


def test_a_worker_killed_inside_the_experiment_is_retried(cluster, local, tmp_path):
    _, base, connected = cluster
    killed = {}

    def kill_first_attempt_of_seed_0():
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not killed:
            for folder in base.glob(f"tmp-*/tfdl-ray-{EXPERIMENT}-seed0-*"):
                try:
                    task = json.loads((folder / ray_runner.MARKER).read_text())
                except (OSError, ValueError):
                    continue
                if task["attempt"] == 1 and (folder / EXPERIMENT).is_dir():  # inside the fn
                    os.kill(task["pid"], signal.SIGKILL)
                    killed.update(task)
                    return
            time.sleep(0.02)

    killer = threading.Thread(target=kill_first_attempt_of_seed_0, daemon=True)
    killer.start()
    record = cli.load_report(REPORT).run(profile="quick", only=[EXPERIMENT], seeds=2,
                                         logdir=tmp_path, threads=1, runner=connected)
    killer.join(1)
    assert killed, "the task's worker was not seen inside the experiment"
    _same_entries(record, local[1], retried=("0",))
    assert _files(tmp_path) == _files(local[0])


def test_a_node_with_other_code_refuses_and_says_so(cluster, tmp_path):
    report = cli.load_report(REPORT)
    foreign = Unit(REPORT, str(report.script), EXPERIMENT, 0, "quick", str(tmp_path),
                   "0123456789abcdef", 1)
    [outcome] = cluster[2].run([foreign], report)
    assert outcome.entry is None and "CodeMismatch" in outcome.error
    assert "runs other tfdl code than the driver" in outcome.error


TOY = """
from tfdl.harness.claims import Claim, within
from tfdl.harness.experiment import Report

REPORT = Report("{name}", report_file="none.txt", title="Toy", profiles={{"quick": {{}}}})


@REPORT.experiment
def only(ctx):
    \"\"\"Writes a file into its run directory.\"\"\"
    (ctx.run_dir("a") / "out.txt").write_text(str(ctx.seed))
    if "{name}" == "toy_b" and ctx.seed == 1:
        raise ValueError("toy_b seed 1 breaks")
    return {{"value": 1.0, "seed": ctx.seed}}


REPORT.claim(Claim("only.value", "value", "only", reported=1.0, quote="1.0",
                   value=lambda m: m["value"], check=within(1.0, 0.1)))
"""


def test_run_all_sends_every_report_to_the_cluster_at_once(cluster, tmp_path, monkeypatch,
                                                           capsys):
    address, _, _ = cluster
    folder = tmp_path / "reproductions"
    folder.mkdir()
    for name in ("toy_a", "toy_b"):
        (folder / f"{name}.py").write_text(TOY.format(name=name))
    monkeypatch.setenv("TFDL_REPRODUCTIONS", str(folder))
    logs = tmp_path / "logs"
    common = ["run", "all", "--profile", "quick", "--seeds", "2", "--logdir", str(logs)]
    assert cli.main([*common, "--ray", address]) == 1  # toy_b's seed 1 failed
    a = json.loads((logs / "toy_a-quick" / "results.json").read_text())
    b = json.loads((logs / "toy_b-quick" / "results.json").read_text())
    assert sorted(a["experiments"]["only"]) == ["0", "1"] and "failures" not in a
    assert sorted(b["experiments"]["only"]) == ["0"]
    assert "ValueError: toy_b seed 1 breaks" in b["failures"]["only/1"]["error"]
    assert (logs / "toy_a-quick" / "only" / "a" / "seed1" / "out.txt").read_text() == "1"
    capsys.readouterr()
    # Locally, what the cluster recorded is skipped; only the failed unit runs again.
    assert cli.main([*common, "--jobs", "1"]) == 1
    err = capsys.readouterr().err
    assert err.count("skipped") == 3 and "error: toy_b: ValueError: toy_b seed 1 breaks" in err


def test_inputs_travel_and_results_come_back(tmp_path, monkeypatch):
    """Without a cluster: archives, the data-directory choice on a node, and restoring a run."""
    driver_data = tmp_path / "driver-data"
    (driver_data / "europe").mkdir(parents=True)
    (driver_data / "europe" / "a.csv").write_text("x")
    fetches = []

    def fetch():
        fetches.append(1)
        return ray_runner.pack(driver_data)

    unit = Unit("r", "r.py", "exp", 3, "quick", "logs/r", "f" * 16, 1)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "node-tmp"))
    (tmp_path / "node-tmp").mkdir()
    monkeypatch.delenv("TFDL_DATA_DIR", raising=False)
    sig = ray_runner.signature(driver_data)
    shipped, origin = ray_runner.node_data_dir(unit, str(driver_data), sig, fetch)
    assert origin == str(driver_data) and (Path(shipped) / "europe" / "a.csv").read_text() == "x"
    assert ray_runner.node_data_dir(unit, str(driver_data), sig, fetch) == (shipped, origin)
    assert len(fetches) == 1  # unpacked once per node, then reused
    monkeypatch.setenv("TFDL_DATA_DIR", str(tmp_path))  # the node's own
    assert ray_runner.node_data_dir(unit, str(driver_data), sig, fetch) == (str(tmp_path), None)
    # A run directory comes back emptied first, like a local rerun's.
    worker = tmp_path / "worker"
    (worker / "exp" / "cfg" / "seed3").mkdir(parents=True)
    (worker / "exp" / "cfg" / "seed3" / "new").write_text("1")
    driver = tmp_path / "driver"
    (driver / "exp" / "cfg" / "seed3").mkdir(parents=True)
    (driver / "exp" / "cfg" / "seed3" / "stale").write_text("0")
    (driver / "exp" / "cfg" / "seed4").mkdir(parents=True)
    ray_runner.restore_run(ray_runner.pack(worker), driver, unit)
    assert sorted(p.name for p in (driver / "exp" / "cfg").rglob("*")) == \
           ["new", "seed3", "seed4"]
    assert ray_runner._relocate({"w": [f"{worker}/exp/w.npy", "x"]}, str(worker), "logs/r") == \
           {"w": ["logs/r/exp/w.npy", "x"]}


def test_without_ray_flag_ray_is_never_imported():
    code = ("import sys, types; from tfdl.harness import cli, runner;"
            "r = types.SimpleNamespace(name='r', title='R', report_file='r.txt', options=[],"
            "                          profiles={'full': {}}, experiments={});"
            "cli.report_parser(r).parse_args(['--jobs', '1']);"
            "assert not [m for m in sys.modules if m == 'ray' or m.startswith('ray.')]")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


def test_cli_rejects_cluster_flags_without_ray_and_bad_addresses(capsys):
    report = Report("toy", "toy.txt", "Toy", {"full": {}})
    assert cli.run_report(report, ["--cpus-per-task", "2"]) == cli.EXIT_USAGE
    assert cli.run_report(report, ["--ray", "127.0.0.1:1"]) == cli.EXIT_USAGE
    assert cli.run_report(report, ["--ray", "nohost"]) == cli.EXIT_USAGE
    err = capsys.readouterr().err.splitlines()
    assert err[0] == "error: --cpus-per-task and --gpus-per-task go with --ray ADDRESS"
    assert err[1].startswith("error: cannot connect to a Ray cluster at 127.0.0.1:1")
    assert err[2].startswith("error: --ray nohost: expected auto or HOST:PORT")
    assert len(err) == 3
