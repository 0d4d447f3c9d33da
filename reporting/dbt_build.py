"""Run `dbt build` (seeds, models, unit and data tests) in-process and summarize what failed."""

from __future__ import annotations

import json
import logging
import os
import re
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb
from dbt.cli.main import dbtRunner

from common import warehouse
from common.dblock import busy_error_from_duckdb
from common.names import RAW_DATASET, RAW_TABLES
from reporting.build_state import BUILDER_PID_ENV
from reporting.errors import MissingDataError, ReportingError
from reporting.options import PROJECT_DIR, ReportOptions
from reporting.paths import dbt_log_path, dbt_target_path
from reporting.reader import database_exists, database_label, reading
from reporting.unit_test_gate import can_skip_unit_tests, record_unit_tests_passed

log = logging.getLogger(__name__)

_FAILED = {"error", "fail", "runtime error"}


@dataclass(frozen=True)
class BuildSummary:
    """Counts of the dbt build's nodes by status, and its wall time."""

    passed: int
    warned: int
    skipped: int
    seconds: float
    log_file: Path


def check_raw_tables(db_path: Path) -> None:
    """Raise MissingDataError unless the database holds every genesys_raw table (without creating it)."""
    hint = f"error: no loaded data in {database_label(db_path)}; run 'make load' first"
    if not database_exists(db_path):
        raise MissingDataError(hint)
    try:
        with reading(db_path) as con:
            found = {
                row[0]
                for row in con.execute(
                    "select table_name from information_schema.tables where table_schema = ?", [RAW_DATASET]
                ).fetchall()
            }
    except duckdb.Error as exc:
        busy = busy_error_from_duckdb(exc, db_path)
        if busy is not None:
            raise busy from None
        raise MissingDataError(f"error: cannot read {db_path} ({exc}); run 'make load' first") from exc
    if not set(RAW_TABLES) <= found:
        raise MissingDataError(hint)


def _release_duckdb() -> None:
    """Close the DuckDB database dbt-duckdb keeps open in this process, so that we can reopen it read-only."""
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager

    environment = DuckDBConnectionManager._ENV  # no public API for this; the adapter caches one per process
    if environment is not None:
        environment.close()
    DuckDBConnectionManager.close_all_connections()


def _postgres_profile_env() -> dict[str, str]:
    """With DESTINATION=postgres, the GENESYS_PG_* variables profiles.yml's postgres target reads, from dlt's
    DESTINATION__POSTGRES__CREDENTIALS (one setting for loader and dbt); else nothing."""
    if not warehouse.is_postgres():
        return {}
    credentials = warehouse.postgres_credentials()
    return {
        "GENESYS_PG_HOST": str(credentials.host),
        "GENESYS_PG_PORT": str(credentials.port or 5432),
        "GENESYS_PG_USER": str(credentials.username),
        "GENESYS_PG_PASSWORD": str(credentials.password or ""),
        "GENESYS_PG_DATABASE": str(credentials.database),
    }


def _problem_line(message: str | None) -> str:
    """The informative line of a dbt node message (drops 'Runtime Error in model ...' headers)."""
    lines = [line.strip() for line in (message or "").splitlines() if line.strip()]
    lines = [line for line in lines if not re.match(r"^(Runtime|Compilation|Database) Error in ", line)]
    # DuckDB and PostgreSQL point at the SQL after the message: "LINE 12: select ...", a caret, a hint
    lines = [line for line in lines if not re.match(r"^(LINE \d+:|\^+$|Candidate bindings:|HINT:)", line)]
    text = lines[-1] if lines else (message or "failed")
    return re.sub(r"^(Invalid Input Error|Binder Error|Catalog Error|Runtime Error): ", "", text)


def run_dbt_build(
    options: ReportOptions, db_path: Path, *, full_refresh: bool = False, verbose: bool = False
) -> BuildSummary:
    """`dbt build` with the report vars; raise ReportingError naming each failing node when anything fails.

    KeyboardInterrupt (Ctrl-C, or SIGTERM as the CLI maps it) is re-raised once dbt has stopped.
    """
    log_path = dbt_log_path(db_path)
    args = [
        "build",
        "--project-dir",
        str(PROJECT_DIR),
        "--profiles-dir",
        os.environ.get("DBT_PROFILES_DIR") or str(PROJECT_DIR),
        "--vars",
        json.dumps(options.dbt_vars()),
        # per DuckDB file, so that builds on two files at once never share compiled SQL or artifacts
        "--target-path",
        str(dbt_target_path(db_path)),
        "--log-path",
        str(log_path),
    ]
    if full_refresh:
        args.append("--full-refresh")
    postgres_env = _postgres_profile_env()
    if postgres_env:
        args += ["--target", "postgres"]
    # unit tests check SQL, not data: a build of SQL that already passed them in this checkout leaves them
    # out (on PostgreSQL they always run: the record is of the DuckDB builds)
    skip_unit_tests = not postgres_env and can_skip_unit_tests(full_refresh=full_refresh)
    if skip_unit_tests:
        args += ["--exclude", "resource_type:unit_test"]
    if not verbose:
        # the console shows our summary instead; dbt's full log stays in <log path>/dbt.log
        args += ["--log-level", "none", "--log-level-file", "info"]
    log.info("dbt %s", " ".join(args))
    started = time.monotonic()
    # the builder's pid is recorded in the build log (reporting/build_state.py)
    overrides = {BUILDER_PID_ENV: str(os.getpid()), **postgres_env}
    previous = {name: os.environ.get(name) for name in overrides}
    os.environ.update(overrides)
    try:
        outcome = dbtRunner().invoke(args)
    finally:
        _release_duckdb()
        for name, value in previous.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    seconds = time.monotonic() - started
    if isinstance(outcome.exception, KeyboardInterrupt):
        raise KeyboardInterrupt from outcome.exception
    busy = busy_error_from_duckdb(outcome.exception, db_path) if outcome.exception is not None else None
    if busy is not None:
        raise busy
    if outcome.exception is not None and outcome.result is None:
        raise ReportingError(f"error: dbt build could not start: {_problem_line(str(outcome.exception))}")
    results = list(getattr(outcome.result, "results", None) or [])
    failed = [r for r in results if str(r.status).lower() in _FAILED]
    for result in failed:
        busy = busy_error_from_duckdb(RuntimeError(result.message or ""), db_path)
        if busy is not None:
            raise busy
    if failed or not outcome.success:
        problems = [f"{r.node.name}: {_problem_line(r.message)}" for r in failed]
        if len(problems) == 1:
            raise ReportingError(f"error: {problems[0]}")
        detail = "; ".join(problems) if problems else _problem_line(str(outcome.exception))
        raise ReportingError(f"error: dbt build failed ({len(problems)} failing: {detail})")
    if not skip_unit_tests and not postgres_env:
        record_unit_tests_passed()
    statuses = [str(r.status).lower() for r in results]
    return BuildSummary(
        passed=sum(s in ("pass", "success") for s in statuses),
        warned=sum(s == "warn" for s in statuses),
        skipped=sum(s == "skipped" for s in statuses),
        seconds=seconds,
        log_file=log_path / "dbt.log",
    )
