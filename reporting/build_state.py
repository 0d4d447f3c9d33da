"""The last dbt build recorded in the database (genesys_build.build_runs), and whether readers may trust it.

macros/build_state.sql writes the records; the public marts in `main` are views that refuse to answer unless
the latest record is a success. This module gives Python readers the same verdict with a clearer message.
`python -m reporting.build_state` prints a warning on stderr when the last build is not a success (make sql).
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import duckdb

from common.dblock import DatabaseBusyError
from common.errors import AppError, UsageError
from reporting.errors import MissingDataError, ReportingError
from reporting.reader import busy_error, database_exists, database_label, database_path, reading

BUILD_SCHEMA = "genesys_build"  # macros/build_state.sql build_state_schema()
BUILDER_PID_ENV = "GENESYS_BUILDER_PID"  # recorded in build_runs.builder_pid by the on-run-start hook

_LAST_BUILD_SQL = f"""
    select status, report_timezone, report_start, report_end, sl_formula, started_at, finished_at,
           marts, message, command, builder_pid, build_vars
    from {BUILD_SCHEMA}.build_runs
    order by started_at desc
    limit 1
"""


@dataclass(frozen=True)
class BuildRecord:
    """One dbt build of the marts: its outcome, the report vars it used and the marts it published."""

    status: str  # 'success' | 'failed' | 'running' | 'interrupted'
    report_timezone: str | None
    report_start: date | None
    report_end: date | None
    sl_formula: str | None
    started_at: datetime
    finished_at: datetime | None
    marts: tuple[str, ...] = ()
    message: str | None = None
    command: str = "build"
    build_vars: dict[str, Any] = field(default_factory=dict)  # the --vars dbt received

    def summary(self) -> str:
        """One line: when it started, how it ended, and why when it failed."""
        started = f"started {self.started_at.astimezone().strftime('%Y-%m-%d %H:%M:%S %Z')}"
        if self.status == "success":
            return f"the last build ({started}) succeeded"
        if self.status == "failed":
            return f"the last build ({started}) failed ({self.message or 'see the dbt log'})"
        if self.status == "running":
            return f"the last build ({started}) is still running"
        return f"the last build ({started}) did not finish (interrupted; the marts may mix two builds)"


def _status(recorded: str, builder_pid: int | None) -> str:
    """A 'running' record read while no process holds the file is an interrupted build.

    Opening the file at all proves no other process is writing it (DuckDB locks it), so 'running' survives
    only for a builder that is still alive (the calling process itself, e.g. a dbt hook or test).
    """
    if recorded != "running":
        return recorded
    if builder_pid is not None:
        try:
            os.kill(builder_pid, 0)
        except OSError:
            return "interrupted"
        return "running" if builder_pid == os.getpid() else "interrupted"
    return "interrupted"


def last_build(db_path: Path) -> BuildRecord | None:
    """The latest build recorded in db_path, or None when the file or its build log does not exist.

    Raises DatabaseBusyError (common.dblock) while another process has the file open for writing.
    """
    if not database_exists(db_path):
        return None
    try:
        with reading(db_path) as con:
            if not con.table_exists(BUILD_SCHEMA, "build_runs"):
                return None
            row = con.execute(_LAST_BUILD_SQL).fetchone()
    except duckdb.Error as exc:
        busy = busy_error(exc, db_path)
        if busy is not None:
            raise busy from None
        raise ReportingError(f"error: cannot read the build log of {db_path} ({exc})") from None
    if row is None:
        return None
    status, tz, start, end, formula, started_at, finished_at, marts, message, command, pid, build_vars = row
    return BuildRecord(
        status=_status(status, pid),
        report_timezone=tz,
        report_start=start,
        report_end=end,
        sl_formula=formula,
        started_at=started_at,
        finished_at=finished_at,
        marts=tuple(marts or ()),
        message=message,
        command=command,
        # DuckDB returns the json column as text, psycopg2 as the decoded value
        build_vars=(json.loads(build_vars) if isinstance(build_vars, str) else dict(build_vars))
        if build_vars
        else {},
    )


def require_success(db_path: Path) -> BuildRecord:
    """The last build when it succeeded; MissingDataError (exit 2, one line) otherwise."""
    record = last_build(db_path)
    if record is None:
        raise MissingDataError(
            f"error: no build is recorded in {database_label(db_path)}; run 'make build' first"
        )
    if record.status != "success":
        raise MissingDataError(
            f"error: {record.summary()}; the marts are not served until 'make build' succeeds "
            f"({database_label(db_path)})"
        )
    return record


def read_warning(db_path: Path) -> str | None:
    """The warning `make sql` prints before opening the file, or None when the last build succeeded."""
    record = last_build(db_path)
    if record is None:
        return (
            f"warning: no build is recorded in {database_label(db_path)}; the marts are not there until "
            "'make build'"
        )
    if record.status == "success":
        return None
    return (
        f"warning: {record.summary()}; queries on the marts in main will fail until 'make build' succeeds"
        f" ({BUILD_SCHEMA}.* holds the unchecked tables)"
    )


def main() -> int:
    """Print read_warning() for the database on stderr; exit 1 only when another process holds the DuckDB
    file or PostgreSQL cannot be reached (2 when its settings are wrong)."""
    try:
        warning = read_warning(database_path())
    except (DatabaseBusyError, ReportingError, AppError) as exc:
        message = str(exc)
        print(message if message.startswith("error: ") else f"error: {message}", file=sys.stderr)
        return exc.exit_code if isinstance(exc, UsageError) else 1
    if warning:
        print(warning, file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
