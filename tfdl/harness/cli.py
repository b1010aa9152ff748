"""tfdl: re-run the experiments of five course reports and check their numbers.

usage:
    tfdl list                     the reports and their experiments
    tfdl run NAME [options]       run reproductions/NAME.py (options: tfdl run NAME --help)
    tfdl run all [options]        run every report, the units of all of them at once on
                                  --jobs local workers or (--ray ADDRESS) a Ray cluster (--help)
    tfdl report [--markdown] [RESULTS.json…]
                                  headline tables from result records (default: logs/*/)
    tfdl calibrate NAME [options]  the report's declared search over settings it does not
                                  give, ranked by its calibration targets (--help)
    tfdl record LOGDIR… [--to DIR]  compact records of full runs for the repository
                                  (default results/<report>.json); a search's folder
                                  (logs/NAME-calibrate-full): results/calibration/NAME.json
    tfdl readme [--check]         README result blocks, summary table, FAIL notes,
                                  calibration tables and the Speed table regenerated from
                                  results/ (notes: docs/notes/)
    tfdl report --against RECORD [RESULTS.json]
                                  your run (default: your latest, logs/<report>[-quick]/) claim
                                  by claim against a committed record (results/<report>.json):
                                  delta, and whether your seeds lie inside the record's spread
"""

import argparse
import functools
import importlib.util
import json
import os
import sys
from pathlib import Path

EXIT_USAGE = 2
SCHEMA_VERSION = 2  # results.json layout read here (tfdl.harness.experiment.SCHEMA_VERSION)


def _fail(message):
    print(f"error: {message}", file=sys.stderr)
    return EXIT_USAGE


def _number_at_least(kind, minimum, what):
    """An argparse type: `kind(text)` no smaller than `minimum`, else a one-line error."""

    def parse(text):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}, got {value:g}")
        return value

    return parse


_positive_int = _number_at_least(int, 1, "a whole number")
_nonnegative_float = _number_at_least(float, 0, "a number")


def _experiment_lines(report):
    """One line per experiment: its name, in a column as wide as the longest, and its doc."""
    width = max((len(name) for name in report.experiments), default=0)
    return [f"  {e.name:<{width}}  {e.doc}" for e in report.experiments.values()]


def report_parser(report, prog=None):
    """The argument parser every reproduction script shares."""
    experiments = "\n".join(_experiment_lines(report))
    parser = argparse.ArgumentParser(
        prog=prog or f"{report.name}.py",
        description=f"Reproduces {report.title} (shared/reports/{report.report_file}).",
        epilog=f"experiments:\n{experiments}\n\nOutputs under the log directory: TensorBoard runs "
               "(tensorboard --logdir DIR), PNG figures, results.json. Exit status 0 iff every "
               "headline holds; 2 on bad arguments or missing data. Rerunning resumes: recorded "
               "experiments are skipped.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--profile", choices=sorted(report.profiles), default="full",
                        help="full: the report's protocol (default); quick: minutes, for CI")
    parser.add_argument("--only", nargs="+", metavar="NAME",
                        help="run only these experiments (see below)")
    parser.add_argument("--seeds", type=_positive_int, default=1, metavar="N",
                        help="run each experiment with seeds 0..N-1; each claim is checked per "
                             "seed and holds when at least 2 of every 3 seeds pass")
    parser.add_argument("--logdir", metavar="DIR",
                        help="where logs, figures and results.json go "
                             f"(default logs/{report.name}, logs/{report.name}-quick for "
                             "the quick profile)")
    parser.add_argument("--data-dir", metavar="DIR",
                        help="folder holding datasets other than MNIST (default $TFDL_DATA_DIR)")
    parser.add_argument("--fresh", action="store_true",
                        help="ignore recorded results and rerun everything")
    parser.add_argument("--jobs", type=_positive_int, default=os.cpu_count() or 1, metavar="N",
                        help="run up to N units (experiment x seed) at once in worker processes "
                             "(default: the CPU cores, %(default)s); 1 runs them in this process")
    parser.add_argument("--threads", type=_positive_int, metavar="N",
                        help="TensorFlow threads per unit (default: the cores divided by the "
                             "units running at once); a seed's numbers do not depend on it")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                        dest="overrides",
                        help="change one setting the report does not give (an Inferred "
                             "constant of the script) or a profile key, e.g. --set "
                             "LEARNING_RATE=0.01; repeatable. The run is then a modified "
                             "protocol, kept apart in <logdir>-set-<hash> unless --logdir is "
                             "given; a wrong name lists the valid ones")
    _add_cluster_options(parser)
    for flags, kwargs in getattr(report, "options", ()):
        parser.add_argument(*flags, **kwargs)
    return parser


def _add_cluster_options(parser):
    group = parser.add_argument_group(
        "Ray cluster (pip install -e \".[cluster]\"; README: Running on a cluster)")
    group.add_argument("--ray", metavar="ADDRESS",
                       help="run each unit (experiment x seed) as a task on a Ray cluster: auto "
                            "(the cluster this machine joined with ray start) or HOST:PORT of "
                            "its head node")
    group.add_argument("--cpus-per-task", type=_positive_int, metavar="N",
                       help="CPUs each task reserves, and its TensorFlow threads unless "
                            "--threads is given (default 1; with --ray)")
    group.add_argument("--gpus-per-task", type=_nonnegative_float, metavar="N",
                       help="GPUs each task reserves, fractions share one (default 0; with --ray)")


def _ray_runner(args):
    """(RayRunner for --ray, None) or (None, error message). Ray is imported only here."""
    try:
        from tfdl.harness.ray_runner import ClusterError, RayRunner
    except ImportError as err:
        return None, f"--ray needs Ray ({err}): pip install -e \".[cluster]\""
    try:
        return RayRunner(args.ray, cpus_per_task=args.cpus_per_task or 1,
                         gpus_per_task=args.gpus_per_task or 0), None
    except ClusterError as err:
        return None, str(err)


def _quiet_on_closed_pipe(fn):
    """Ends the process quietly (exit 1) when stdout's reader has gone, as with `| head`,
    instead of a BrokenPipeError traceback."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            code = fn(*args, **kwargs)
            sys.stdout.flush()  # a short output's write fails here, not at interpreter exit
            return code
        except BrokenPipeError:
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no flush error
            sys.exit(1)

    return wrapper


@_quiet_on_closed_pipe
def run_report(report, argv=None, runner=None):
    """Parses arguments, runs the report, prints the headline table; returns the exit code.
    `runner`: a runner to use instead of the one the arguments choose (`tfdl run all`)."""
    from tfdl.data import DataError
    from tfdl.harness.experiment import RecordClash, all_hold, default_logdir
    from tfdl.harness.table import format_table

    args = report_parser(report).parse_args(argv)
    if args.only:
        unknown = [n for n in args.only if n not in report.experiments]
        if unknown:
            return _fail(f"unknown experiment {', '.join(unknown)}; valid: "
                         f"{', '.join(report.experiments)}")
    if args.data_dir and not Path(args.data_dir).is_dir():
        return _fail(f"--data-dir {args.data_dir} is not a directory")
    from tfdl.harness import runner as runners
    from tfdl.harness import settings

    try:
        overrides = settings.parse(report, args.profile, args.overrides)
    except settings.SettingError as err:
        return _fail(str(err))
    logdir = Path(args.logdir or default_logdir(report.name, args.profile))
    if overrides and not args.logdir:
        logdir = logdir.with_name(f"{logdir.name}-set-{settings.digest(overrides)}")
    if logdir.exists() and not logdir.is_dir():
        return _fail(f"--logdir {logdir} exists and is not a directory")

    units = len(args.only or report.experiments) * args.seeds
    jobs = min(args.jobs, units)
    cluster = None
    if runner is None and args.ray:
        cluster, error = _ray_runner(args)
        if error:
            return _fail(error)
        runner = cluster
    elif runner is None and (args.cpus_per_task or args.gpus_per_task):
        return _fail("--cpus-per-task and --gpus-per-task go with --ray ADDRESS")
    try:
        record = report.run(profile=args.profile, only=args.only, seeds=args.seeds,
                            logdir=logdir, data_dir=args.data_dir, fresh=args.fresh,
                            options=_report_options(report, args), threads=args.threads,
                            overrides=overrides,
                            runner=runner or (runners.ProcessPool(jobs) if jobs > 1
                                              else runners.InProcess()))
    except (DataError, RecordClash) as err:
        return _fail(str(err))
    except KeyboardInterrupt:
        print(f"\ninterrupted: finished experiments are kept in {logdir / 'results.json'}; "
              "run the same command again to resume", file=sys.stderr)
        return 130
    finally:
        if cluster is not None:
            cluster.close()
    print(format_table(record))
    print(f"results: {logdir / 'results.json'}   tensorboard --logdir {logdir}")
    return 0 if all_hold(record) else 1


def _report_options(report, args):
    """`{dest: value}` of the report's own options (`Report.option`)."""
    parser = argparse.ArgumentParser(add_help=False)
    actions = [parser.add_argument(*flags, **kwargs) for flags, kwargs in
               getattr(report, "options", ())]
    return {action.dest: getattr(args, action.dest) for action in actions}


def reproductions_dir():
    """The folder of reproduction scripts: $TFDL_REPRODUCTIONS, the checkout's, or
    ./reproductions."""
    candidates = [os.environ.get("TFDL_REPRODUCTIONS"),
                  Path(__file__).resolve().parents[2] / "reproductions", Path("reproductions")]
    for candidate in candidates:
        if candidate and Path(candidate).is_dir():
            return Path(candidate)
    return None


def _scripts():
    folder = reproductions_dir()
    return {} if folder is None else {p.stem: p for p in sorted(folder.glob("*.py"))
                                      if not p.name.startswith("_")}


def load_report(name):
    """The `Report` of reproductions/NAME.py (imports the script without running it)."""
    return load_script(name).REPORT


def load_script(name):
    """The module of reproductions/NAME.py (imported, not run): its `REPORT`, constants and
    helpers."""
    scripts = _scripts()
    if name not in scripts:
        raise KeyError(f"unknown report {name!r}; valid: {', '.join(scripts) or 'none found'}")
    return _module(scripts[name])


def _load(path):
    return _module(path).REPORT


def _module(path):
    spec = importlib.util.spec_from_file_location(f"reproductions.{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _list():
    scripts = _scripts()
    if not scripts:
        return _fail("no reproductions/ folder found; set TFDL_REPRODUCTIONS to it")
    for name, path in scripts.items():
        report = _load(path)
        print(f"{name}: {report.title} (shared/reports/{report.report_file})")
        print("\n".join(_experiment_lines(report)))
    return 0


def _run(argv):
    scripts = _scripts()
    if not argv or argv[0].startswith("-"):
        return _fail(f"tfdl run needs a report name; valid: {', '.join(scripts) or 'none found'}")
    if argv[0] == "all":
        return _run_all(argv[1:])
    try:
        report = load_report(argv[0].removesuffix(".py"))
    except KeyError as err:
        return _fail(err.args[0])
    return report.main(argv[1:])


def _latest_run(name):
    """The log directory of the user's latest run of report `name`, full or quick; None if
    there is none."""
    from tfdl.harness.experiment import default_logdir

    runs = [default_logdir(name, profile) for profile in ("full", "quick")]
    found = [d for d in runs if (d / "results.json").is_file()]
    return max(found, key=lambda d: (d / "results.json").stat().st_mtime) if found else None


def _run_all(argv):
    """`tfdl run all`: every report at once, one thread per report feeding one runner: a
    `SharedPool` of --jobs local workers (longest units first across reports), or with --ray
    the cluster's `RayRunner`; with --jobs 1, one report after another in this process."""
    import threading

    from tfdl.harness.experiment import default_logdir

    parser = argparse.ArgumentParser(
        prog="tfdl run all", description="Runs every report in reproductions/ at once: the "
        "units (one experiment with one seed) of all of them share --jobs local worker "
        "processes, the longest expected first, or with --ray the cluster; with --jobs 1, one "
        "report after another. The options mean what they mean for one report (tfdl run NAME "
        "--help). Exit status: the worst of the reports'.")
    parser.add_argument("--profile", choices=["full", "quick"], default="full")
    parser.add_argument("--seeds", type=_positive_int, default=1, metavar="N")
    parser.add_argument("--logdir", metavar="DIR", default="logs",
                        help="each report writes to DIR/<report> (DIR/<report>-quick for the "
                             "quick profile; default logs)")
    parser.add_argument("--data-dir", metavar="DIR")
    parser.add_argument("--fresh", action="store_true")
    parser.add_argument("--jobs", type=_positive_int, default=os.cpu_count() or 1, metavar="N",
                        help="local worker processes shared by all reports (without --ray; "
                             "default: the core count)")
    parser.add_argument("--threads", type=_positive_int, metavar="N")
    parser.add_argument("--skip", nargs="+", default=[], metavar="REPORT:EXPERIMENT",
                        help="leave out these experiments, e.g. --skip ex4_mlp_cnn:standin "
                             "ex4_mlp_cnn:faces (a report with none left is not run)")
    _add_cluster_options(parser)
    args = parser.parse_args(argv)
    reports = [_load(path) for path in _scripts().values()]
    if not reports:
        return _fail("no reproductions/ folder found; set TFDL_REPRODUCTIONS to it")
    valid = {f"{r.name}:{name}" for r in reports for name in r.experiments}
    unknown = [name for name in args.skip if name not in valid]
    if unknown:
        return _fail(f"--skip: unknown experiment {', '.join(unknown)}; valid: "
                     f"{', '.join(sorted(valid))}")
    kept = {r.name: [n for n in r.experiments if f"{r.name}:{n}" not in args.skip]
            for r in reports}
    reports = [r for r in reports if kept[r.name]]
    common = ["--profile", args.profile, "--seeds", str(args.seeds), "--jobs", str(args.jobs)]
    common += ["--fresh"] * args.fresh + ["--threads", str(args.threads)] * bool(args.threads)
    common += ["--data-dir", args.data_dir] * bool(args.data_dir)
    codes = {}

    def one(report, cluster=None):
        only = kept[report.name]
        only = ["--only", *only] if len(only) < len(report.experiments) else []
        try:
            codes[report.name] = run_report(
                report, common + only + ["--logdir", str(Path(args.logdir) / default_logdir(
                    report.name, args.profile).name)],
                runner=cluster)
        except Exception as err:  # noqa: BLE001  (one report's error does not stop the others)
            print(f"error: {report.name}: {type(err).__name__}: {err}", file=sys.stderr)
            codes[report.name] = 1

    if args.ray:
        cluster, error = _ray_runner(args)
        if error:
            return _fail(error)
    elif args.cpus_per_task or args.gpus_per_task:
        return _fail("--cpus-per-task and --gpus-per-task go with --ray ADDRESS")
    elif args.jobs > 1:
        from tfdl.harness.runner import SharedPool

        cluster = SharedPool(args.jobs)
    else:
        for report in reports:
            one(report)
            if codes[report.name] == 130:
                return 130
        return max(codes.values())

    threads = [threading.Thread(target=one, args=(r, cluster), name=r.name, daemon=True)
               for r in reports]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            while thread.is_alive():
                thread.join(0.5)
    except KeyboardInterrupt:
        cluster.cancel()
        for thread in threads:
            thread.join()
        return 130
    finally:
        cluster.close()
    return max(codes.values(), default=0)


class _RecordError(Exception):
    pass


def _read_record(path):
    path = Path(path)
    if path.is_dir():
        path = path / "results.json"
    try:
        record = json.loads(path.read_text())
    except FileNotFoundError:
        raise _RecordError(f"{path} does not exist") from None
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise _RecordError(f"{path} is not a results.json record") from None
    if not isinstance(record, dict) or "headlines" not in record:
        raise _RecordError(f"{path} has no headlines yet (the run did not finish)")
    if record.get("schema_version") != SCHEMA_VERSION:
        raise _RecordError(f"{path} was written by an older tfdl (record schema "
                           f"{record.get('schema_version', 1)}, this tfdl reads "
                           f"{SCHEMA_VERSION}); rerun the reproduction to record it again")
    return record


def _report(args):
    from tfdl.harness.table import format_against, format_markdown, format_table

    markdown = "--markdown" in args
    args = [a for a in args if a != "--markdown"]
    against = None
    if "--against" in args:
        at = args.index("--against")
        if at + 1 >= len(args):
            return _fail("--against needs a record, e.g. results/hw2_mydnn.json")
        against = args[at + 1]
        args = args[:at] + args[at + 2:]
    try:
        if against is not None:
            reference = _read_record(against)
            mine = args[0] if args else _latest_run(reference["report"])
            if mine is None:
                name = reference["report"]
                return _fail(f"no run of {name} in logs/{name} or logs/{name}-quick: run it "
                             f"(python reproductions/{name}.py), or name your run's folder")
            record = _read_record(mine)
            if record["report"] != reference["report"]:
                return _fail(f"{against} is {reference['report']}'s record, your run is "
                             f"{record['report']}'s")
            print(format_against(reference, record))
            return 0
        files = [Path(p) for p in args] or sorted(Path("logs").glob("*/results.json"))
        if not files:
            return _fail("no results.json given and none under logs/*/")
        for path in files:
            record = _read_record(path)
            if not _reevaluate(record):  # a re-evaluated row carries its stale mark
                _mark_stale(record)
            print(format_markdown(record) if markdown else format_table(record))
            print()
    except _RecordError as err:
        return _fail(str(err))
    return 0


def _reevaluate(record):
    """Evaluates the claims again on the record's results, as they are now: a run stopped
    between units has new results under rows evaluated before them (a run evaluates its
    claims when its last unit ends). Needs the report's script and per-seed metrics (a run's
    results.json; a committed compact record keeps its rows). Returns whether it did."""
    from tfdl.harness import calibration
    from tfdl.harness.experiment import evaluate_claims

    try:
        report = load_report(record["report"])
    except KeyError:
        return False
    entries = [e for by_seed in record.get("experiments", {}).values() for e in by_seed.values()]
    if not entries or not all("metrics" in e for e in entries):
        return False
    record["headlines"] = evaluate_claims(report.claims, record, report.fingerprint())
    calibration.mark_roles(report, record["headlines"])
    return True


def _mark_stale(record):
    """Marks the rows whose results were recorded with code other than today's (when the
    report's script is found)."""
    try:
        fingerprint = load_report(record["report"]).fingerprint()
    except KeyError:
        return
    for row in record["headlines"]:
        entries = record["experiments"].get(row["experiment"], {}).values()
        row["stale"] = any(e.get("fingerprint") != fingerprint for e in entries)


@_quiet_on_closed_pipe
def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    usage = __doc__.strip()
    if not argv or argv[0] in ("-h", "--help"):
        print(usage)
        return 0 if argv else EXIT_USAGE
    command, rest = argv[0], argv[1:]
    if rest[:1] in (["-h"], ["--help"]) and command in ("list", "run", "report", "record",
                                                        "readme"):
        print(_command_usage(usage, command))
        return 0
    if command == "list":
        return _list()
    if command == "run":
        return _run(rest)
    if command == "report":
        return _report(rest)
    if command == "record":
        return _record(rest)
    if command == "calibrate":
        return _calibrate(rest)
    if command == "readme":
        return _readme(rest)
    return _fail(f"unknown command {command!r}; valid: list, run, report, record, readme, "
                 "calibrate")


def _command_usage(usage, command):
    """The lines of `usage` about `tfdl <command>` (each with its continuation lines)."""
    lines, keep = [], False
    for line in usage.splitlines():
        if line.startswith("    tfdl "):
            keep = line.split()[1] == command
        elif not line.startswith("      "):
            keep = False
        if keep:
            lines.append(line)
    return "usage:\n" + "\n".join(lines)


def _calibrate(argv):
    """`tfdl calibrate NAME [options]`: the report's declared search over unstated settings."""
    from tfdl.harness import calibration
    from tfdl.harness import runner as runners

    parser = argparse.ArgumentParser(
        prog="tfdl calibrate",
        description="Runs a report's declared calibration search (tfdl.harness.calibration) at its "
                    "targets' protocol and prints the settings ranked by how close the targets "
                    "come to the reported numbers. Trials resume like runs; `tfdl record "
                    "logs/NAME-calibrate-full` commits the table (results/calibration/).")
    parser.add_argument("name", help="the report (reproductions/NAME.py)")
    parser.add_argument("--profile", default="full", help="full (default) or quick")
    parser.add_argument("--trials", type=_positive_int, metavar="N",
                        help="at most N trials (default: the script's budget); a space of "
                             "more settings than that is searched by keras-tuner's Bayesian "
                             "oracle, a smaller one as a grid")
    parser.add_argument("--seeds", type=_positive_int, metavar="K",
                        help="seeds per trial (default 1; 3 with --confirm)")
    parser.add_argument("--jobs", type=_positive_int, default=1, metavar="N",
                        help="worker processes (default 1): a trial's seeds run side by side, "
                             "and where N exceeds --seeds a grid search runs N // seeds "
                             "trials at once")
    parser.add_argument("--logdir", metavar="DIR",
                        help="default logs/NAME-calibrate[-SEARCH]-PROFILE; one folder per "
                             "trial")
    parser.add_argument("--search", metavar="NAME",
                        help="another search the script declares (its SEARCHES), e.g. whether "
                             "any setting reaches some claims; default: the calibration")
    parser.add_argument("--confirm", type=_positive_int, metavar="K",
                        help="after the search: rerun its best K settings on every experiment "
                             "with --seeds seeds (default 3) and show which headlines, and "
                             "which held-out ones, hold; the script's own setting runs as the "
                             "report's protocol, in its usual log folder")
    parser.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    args = parser.parse_args(argv)
    try:
        script = load_script(args.name)
    except KeyError as err:
        return _fail(err.args[0])
    report = script.REPORT
    declared = None
    if args.search:
        searches = getattr(script, "SEARCHES", {})
        if args.search not in searches:
            return _fail(f"{args.name} declares no search {args.search!r}; valid: "
                         f"{', '.join(searches) or 'none'}")
        declared = searches[args.search]
    elif report.calibration is None:
        return _fail(f"{args.name} declares no calibration search")
    if args.profile not in report.profiles:
        return _fail(f"unknown profile {args.profile}; valid: {', '.join(report.profiles)}")
    if args.confirm:
        return _confirm(report, args)
    args.seeds = args.seeds or 1
    jobs = min(args.jobs, args.seeds)
    try:
        table = calibration.search(
            report, profile=args.profile, trials=args.trials, seeds=args.seeds,
            logdir=args.logdir,
            runner=runners.ProcessPool(jobs) if args.jobs > 1 else runners.InProcess(),
            log=lambda line: print(line, file=sys.stderr, flush=True),
            calibration=declared, name=args.search, parallel=max(1, args.jobs // jobs))
    except KeyboardInterrupt:
        print("\ninterrupted: finished trials are kept; run the same command to resume",
              file=sys.stderr)
        partial = _search_table(report, args)
        if partial:
            print(calibration.format_ranking(partial, markdown=args.markdown))
        return 130
    print(calibration.format_ranking(table, markdown=args.markdown))
    return 0


def _confirm(report, args):
    """`tfdl calibrate NAME --confirm K`: the search's best K settings on the whole protocol."""
    from tfdl.harness import calibration
    from tfdl.harness import runner as runners

    if args.search:
        return _fail("--confirm reruns the calibration's best settings; a named search sets "
                     "nothing, so there is nothing to confirm")
    table = _search_table(report, args)
    if not table or not table.get("complete", True):
        done = f" ({table['trials']} of {table['space_size']} trials)" if table else ""
        return _fail(f"no finished search in {_search_dir(report, args)}{done}: run "
                     f"`tfdl calibrate {report.name}` to finish it first")
    logdir = _search_dir(report, args)
    jobs = args.jobs
    try:
        out = calibration.confirm(
            report, table, best=args.confirm, profile=args.profile, seeds=args.seeds or 3,
            logdir=logdir, runner=runners.ProcessPool(jobs) if jobs > 1 else None,
            log=lambda line: print(line, file=sys.stderr, flush=True))
    except KeyboardInterrupt:
        print("\ninterrupted: finished units are kept; run the same command to resume",
              file=sys.stderr)
        return 130
    print(calibration.format_confirmation(out, markdown=args.markdown))
    return 0


def _search_dir(report, args):
    from tfdl.harness import calibration

    return Path(args.logdir or calibration.search_dir(report.name, args.profile, args.search))


def _search_table(report, args):
    """The search's ranked table so far (`calibration.json`), or None."""
    try:
        return json.loads((_search_dir(report, args) / "calibration.json").read_text())
    except (OSError, ValueError):
        return None


def _record(args):
    """`tfdl record LOGDIR… [--to DIR]`: commit-ready compact records of full runs."""
    from tfdl.harness import results

    folder = "results"
    if "--to" in args:
        at = args.index("--to")
        if at + 1 >= len(args):
            return _fail("--to needs a folder")
        folder, args = args[at + 1], args[:at] + args[at + 2:]
    if not args:
        return _fail("tfdl record needs a run's log directory, e.g. logs/hw2_mydnn")
    for path in args:
        if (Path(path) / "calibration.json").is_file():  # a calibration search's folder
            print(f"wrote {results.save_calibration(path, Path(folder) / 'calibration')}")
            continue
        try:
            record = _read_record(path)
        except _RecordError as err:
            return _fail(str(err))
        _reevaluate(record)  # the rows of the results it holds, even if the run stopped early
        print(f"wrote {results.save(record, folder)}")
    return 0


def _readme(args):
    """`tfdl readme [--check] [README]`: README result blocks from results/*.json."""
    from tfdl.harness import results

    check = "--check" in args
    args = [a for a in args if a != "--check"]
    readme = Path(args[0] if args else "README.md")
    if not readme.is_file():
        return _fail(f"{readme} does not exist")
    records = results.load_records(readme.parent / "results")
    text, changed = results.sync(
        readme.read_text(), records, results.report_titles(), readme.parent / "docs" / "notes",
        results.load_calibrations(readme.parent / results.CALIBRATION_FOLDER),
        results.load_speed(readme.parent / results.SPEED_FILE))
    if check:
        if changed:
            print(f"{readme}: blocks differ from their records: {', '.join(changed)} "
                  "(run tfdl readme)")
            return 1
        return 0
    readme.write_text(text)
    print(f"{readme}: {len(changed)} block(s) regenerated ({', '.join(changed) or 'none'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
