"""Checks run before dbt touches the DuckDB file: the targets seed and the report time zone (read-only)."""

from __future__ import annotations

import logging
from datetime import UTC
from pathlib import Path

from common.errors import ConfigError
from reporting.options import ReportOptions
from reporting.reader import reading
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


# The same on PostgreSQL (AT TIME ZONE for DuckDB's timezone()).
_STRADDLING_BUCKET_SQL_PG = """
    select min(interval_start)
    from (select distinct interval_start, interval_end from genesys_raw.queue_intervals) as buckets
    where cast(interval_start at time zone %(zone)s as date)
        <> cast((interval_end - interval '1 microsecond') at time zone %(zone)s as date)
"""


def check_report_timezone(db_path: Path, report_tz: str) -> None:
    """Raise ConfigError when a loaded bucket straddles local midnight in report_tz (PT1H in Kolkata)."""
    with reading(db_path) as con:
        if con.postgres:
            cursor = con.conn.cursor()
            cursor.execute(_STRADDLING_BUCKET_SQL_PG, {"zone": report_tz})
            (first,) = cursor.fetchone()
        else:
            con.conn.execute(_DISTINCT_BUCKETS_SQL)  # temp tables live in memory: the file stays read-only
            (first,) = con.conn.execute(_STRADDLING_BUCKET_SQL, {"zone": report_tz}).fetchone()
    if first is not None:
        raise ConfigError(
            f"bucket {first.astimezone(UTC):%Y-%m-%dT%H:%M:%SZ} straddles local midnight in {report_tz}, so"
            ' it cannot be cut into local days; reload at PT30M (granularity = "PT30M"; PT15M for 45-minute'
            " offsets) and build again"
        )


def preflight(db_path: Path, options: ReportOptions) -> list[dict[str, str]]:
    """Check the targets seed and the report zone against the loaded buckets; return the seed's rows."""
    targets_csv = targets_csv_path()
    rows = read_targets_csv(targets_csv)
    log.info("targets seed %s: %d rows", targets_csv, len(rows))
    check_report_timezone(db_path, options.report_tz)
    return rows
