"""`python -m reporting build|export|report`: the command line behind `make build`, `export`, `report`."""

from __future__ import annotations

import argparse
import contextlib
import logging
import sys
from collections.abc import Iterator
from pathlib import Path

from common import interrupts, warehouse
from common.dblock import database_lock
from common.errors import AppError
from reporting.errors import ReportingError
from reporting.export import DEFAULT_EXPORT_DIR, export_marts
from reporting.options import EXTRA_VARS, build_options
from reporting.reader import database_path
from reporting.report import DEFAULT_REPORT_PATH, make_report


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--start", metavar="YYYY-MM-DD", help="first local date of the report (inclusive)")
    common.add_argument("--end", metavar="YYYY-MM-DD", help="last local date of the report (inclusive)")
    common.add_argument("--report-tz", metavar="AREA/CITY", help="IANA zone of the local dates (default UTC)")
    common.add_argument(
        "--var",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help=f"set a dbt var ({', '.join(EXTRA_VARS)}); repeatable, e.g. --var sl_formula=include_flow_outs",
    )
    common.add_argument(
        "--active-queues-only",
        action="store_true",
        help="drop queues deleted in Genesys from the daily and period marts (include_deleted_queues=false)",
    )
    common.add_argument(
        "--full-refresh", action="store_true", help="rebuild the incremental fct_queue_intervals"
    )
    common.add_argument("-v", "--verbose", action="store_true", help="show dbt's own output")
    parser = argparse.ArgumentParser(
        prog="python -m reporting",
        description="Build the queue SLA marts with dbt (seeds, models, all tests) and export them to CSV.",
        epilog="Targets seed: GENESYS_TARGETS_CSV=/path/to/targets.csv (columns queue_id,queue_name,"
        "media_type,target_pct; default seeds/queue_sla_targets.csv). It is checked, like the report zone "
        "against the loaded buckets, before dbt writes anything. Exit codes: 0 built, 1 dbt or export "
        "failed, 2 bad input, no loaded data or no successful build (nothing written), 130 interrupted.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("build", parents=[common], help="dbt build, then print the period's compliance table")
    export = commands.add_parser(
        "export", parents=[common], help="dbt build, then write one CSV per mart into exports/"
    )
    export.add_argument("--out-dir", type=Path, default=DEFAULT_EXPORT_DIR, help="directory of the CSVs")
    export.add_argument(
        "--no-build", action="store_true", help="export the marts as last built, without running dbt"
    )
    report = commands.add_parser(
        "report", parents=[common], help="build if needed, then write reports/service-level.html (offline)"
    )
    report.add_argument("--out", type=Path, default=DEFAULT_REPORT_PATH, help="path of the HTML report")
    report.add_argument(
        "--no-build", action="store_true", help="report the marts as last built, without running dbt"
    )
    return parser


_INTERRUPTED = {
    "build": "the build did not finish; the marts refuse to answer until 'make build' succeeds",
    "export": "no CSV was changed",
    "report": "the report was not changed",
}


@contextlib.contextmanager
def _one_at_a_time(db_path: Path) -> Iterator[None]:
    """The DuckDB file's lock file, or PostgreSQL's advisory lock on a connection held for the command."""
    if not warehouse.is_postgres():
        with database_lock(db_path) if db_path.is_file() else contextlib.nullcontext():
            yield
        return
    credentials = warehouse.postgres_credentials()
    conn = warehouse.connect(credentials)
    try:
        with warehouse.advisory_lock(conn, credentials):
            yield
    finally:
        conn.close()


def _run(args: argparse.Namespace) -> int:
    options = build_options(args.start, args.end, args.report_tz, args.var, args.active_queues_only)
    db_path = database_path()
    # one build, export or report per database at a time; a missing file is reported by the command itself
    with _one_at_a_time(db_path):
        if args.command == "report":
            # builds only when the last good build does not cover this period and zone (reporting.report)
            build_first = False if args.no_build else None
            report_kwargs = {"full_refresh": args.full_refresh, "verbose": args.verbose}
            print(make_report(db_path, options, args.out, build=build_first, **report_kwargs))
            return 0
        from reporting.build import build  # imports dbt: only once the input is known to be good

        if args.command == "build":
            print(build(options, full_refresh=args.full_refresh, verbose=args.verbose))
            return 0
        if not args.no_build:
            build(options, full_refresh=args.full_refresh, verbose=args.verbose)
        for path in export_marts(db_path, args.out_dir):
            print(f"wrote {path}")
        return 0


def main(argv: list[str] | None = None) -> int:
    """Run the command; exit 0 on success, 1 when dbt or the export fails, 2 for bad input or missing data,
    130 when interrupted by Ctrl-C (143 by SIGTERM)."""
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )
    try:
        # SIGTERM is raised like Ctrl-C, so every `finally` (staged seeds, export folder, lock) runs
        with interrupts.handled_signals(ignore_repeats=False):
            return _run(args)
    except KeyboardInterrupt as exc:
        print(f"error: interrupted; {_INTERRUPTED.get(args.command, 'nothing was changed')}", file=sys.stderr)
        return interrupts.exit_code(exc)
    except ReportingError as exc:
        print(str(exc), file=sys.stderr)
        return exc.exit_code
    except AppError as exc:  # ConfigError (exit 2), DatabaseBusyError (exit 1)
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code


if __name__ == "__main__":
    sys.exit(main())
