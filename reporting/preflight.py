"""Checks run before dbt touches the DuckDB file: the targets seed and the report time zone (read-only)."""

from __future__ import annotations

import logging
from pathlib import Path

import duckdb

from common.errors import ConfigError
from reporting.options import ReportOptions
from reporting.targets import read_targets_csv, targets_csv_path

log = logging.getLogger(__name__)

# Buckets whose first and last instant fall on different local dates in the zone: such a bucket belongs to
# two report days. Same test and wording as the guard in models/marts/fct_queue_intervals.sql. The distinct
# buckets (thousands) go to a temporary table first: in one query DuckDB pushes the zone test below the
# DISTINCT and converts every queue row (millions) to local time, about 15 s for 8.76M rows.
_DISTINCT_BUCKETS_SQL = """
    create temp table preflight_buckets as
    select distinct interval_start, interval_end from genesys_raw.queue_intervals
"""
_STRADDLING_BUCKET_SQL = """
    select min(interval_start)
    from preflight_buckets
    where cast(timezone($zone, interval_start) as date)
        <> cast(timezone($zone, interval_end - interval 1 microsecond) as date)
"""


def check_report_timezone(db_path: Path, report_tz: str) -> None:
    """Raise ConfigError when a loaded bucket straddles local midnight in report_tz (PT1H in Kolkata)."""
    with duckdb.connect(str(db_path), read_only=True) as con:
        con.execute("set TimeZone = 'UTC'")
        con.execute(_DISTINCT_BUCKETS_SQL)  # temp tables live in memory: the file stays read-only
        (first,) = con.execute(_STRADDLING_BUCKET_SQL, {"zone": report_tz}).fetchone()
    if first is not None:
        raise ConfigError(
            f"bucket {first:%Y-%m-%dT%H:%M:%SZ} straddles local midnight in {report_tz}, so it cannot be cut"
            ' into local days; reload at PT30M (granularity = "PT30M"; PT15M for 45-minute offsets)'
            " and build again"
        )


def preflight(db_path: Path, options: ReportOptions) -> list[dict[str, str]]:
    """Check the targets seed and the report zone against the loaded buckets; return the seed's rows."""
    targets_csv = targets_csv_path()
    rows = read_targets_csv(targets_csv)
    log.info("targets seed %s: %d rows", targets_csv, len(rows))
    check_report_timezone(db_path, options.report_tz)
    return rows
