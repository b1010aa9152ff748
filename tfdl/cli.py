"""tfdl: re-run the experiments of five course reports and check their numbers.

usage:
    tfdl list                     the reports and their experiments
    tfdl run NAME [options]       run reproductions/NAME.py (options: tfdl run NAME --help)
    tfdl report [--markdown] [RESULTS.json…]
                                  headline tables from result records (default: logs/*/)
    tfdl report --against RECORD [RESULTS.json]
                                  your run (default: logs/<report>/) claim by claim against a
                                  committed record (results/<report>.json): delta, and whether
                                  your seeds lie inside the record's seed spread
"""

import argparse
import importlib.util
import json
import os
import sys
from pathlib import Path

EXIT_USAGE = 2
SCHEMA_VERSION = 2  # the results.json layout this tfdl reads (tfdl.experiment.SCHEMA_VERSION)


def _fail(message):
    print(f"error: {message}", file=sys.stderr)
    return EXIT_USAGE


def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def report_parser(report, prog=None):
    """The argument parser every reproduction script shares."""
    experiments = "\n".join(f"  {e.name:<22} {e.doc}" for e in report.experiments.values())
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
                        help=f"where logs, figures and results.json go (default logs/{report.name})")
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
    for flags, kwargs in getattr(report, "options", ()):
        parser.add_argument(*flags, **kwargs)
    return parser


def run_report(report, argv=None):
    """Parses arguments, runs the report, prints the headline table; returns the exit code."""
    from tfdl.data import DataError
    from tfdl.experiment import all_hold
    from tfdl.table import format_table

    args = report_parser(report).parse_args(argv)
    if args.only:
        unknown = [n for n in args.only if n not in report.experiments]
        if unknown:
            return _fail(f"unknown experiment {', '.join(unknown)}; valid: "
                         f"{', '.join(report.experiments)}")
    if args.data_dir and not Path(args.data_dir).is_dir():
        return _fail(f"--data-dir {args.data_dir} is not a directory")
    logdir = Path(args.logdir or Path("logs") / report.name)
    if logdir.exists() and not logdir.is_dir():
        return _fail(f"--logdir {logdir} exists and is not a directory")
    from tfdl import runner

    units = len(args.only or report.experiments) * args.seeds
    jobs = min(args.jobs, units)
    try:
        record = report.run(profile=args.profile, only=args.only, seeds=args.seeds,
                            logdir=logdir, data_dir=args.data_dir, fresh=args.fresh,
                            options=_report_options(report, args), threads=args.threads,
                            runner=runner.ProcessPool(jobs) if jobs > 1 else runner.InProcess())
    except DataError as err:
        return _fail(str(err))
    except KeyboardInterrupt:
        print(f"\ninterrupted: finished experiments are kept in {logdir / 'results.json'}; "
              "run the same command again to resume", file=sys.stderr)
        return 130
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
    """The folder of reproduction scripts: $TFDL_REPRODUCTIONS, the checkout's, or ./reproductions."""
    candidates = [os.environ.get("TFDL_REPRODUCTIONS"),
                  Path(__file__).resolve().parents[1] / "reproductions", Path("reproductions")]
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
    scripts = _scripts()
    if name not in scripts:
        raise KeyError(f"unknown report {name!r}; valid: {', '.join(scripts) or 'none found'}")
    return _load(scripts[name])


def _load(path):
    spec = importlib.util.spec_from_file_location(f"reproductions.{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.REPORT


def _list():
    scripts = _scripts()
    if not scripts:
        return _fail("no reproductions/ folder found; set TFDL_REPRODUCTIONS to it")
    for name, path in scripts.items():
        report = _load(path)
        print(f"{name}: {report.title} (shared/reports/{report.report_file})")
        for experiment in report.experiments.values():
            print(f"  {experiment.name:<22} {experiment.doc}")
    return 0


def _run(argv):
    scripts = _scripts()
    if not argv or argv[0].startswith("-"):
        return _fail(f"tfdl run needs a report name; valid: {', '.join(scripts) or 'none found'}")
    try:
        report = load_report(argv[0].removesuffix(".py"))
    except KeyError as err:
        return _fail(err.args[0])
    return report.main(argv[1:])


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
    from tfdl.table import format_against, format_markdown, format_table

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
            record = _read_record(args[0] if args else Path("logs") / reference["report"])
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
            _mark_stale(record)
            print(format_markdown(record) if markdown else format_table(record))
            print()
    except _RecordError as err:
        return _fail(str(err))
    return 0


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


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    usage = __doc__.strip()
    if not argv or argv[0] in ("-h", "--help"):
        print(usage)
        return 0 if argv else EXIT_USAGE
    command, rest = argv[0], argv[1:]
    if command == "list":
        return _list()
    if command == "run":
        return _run(rest)
    if command == "report":
        return _report(rest)
    return _fail(f"unknown command {command!r}; valid: list, run, report")


if __name__ == "__main__":
    sys.exit(main())
