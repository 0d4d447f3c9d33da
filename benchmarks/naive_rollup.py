"""The daily roll-up at its barest: one DuckDB group-by over the raw buckets, no dbt, no tests, no targets."""

from __future__ import annotations

import time
from pathlib import Path

import duckdb


def naive_daily_rollup(db_path: Path, report_tz: str) -> tuple[float, int]:
    """Sum each local day's counts and SL numerator/denominator into a table; return (seconds, days).

    The yardstick of the build benchmark: what any daily report must at least do with the same rows, so
    that "x times the bare roll-up" compares builds measured on different days or machines.
    """
    started = time.perf_counter()
    con = duckdb.connect(str(db_path))
    try:
        con.execute("set TimeZone = 'UTC'")
        con.execute("set enable_progress_bar = false")
        con.execute("create schema if not exists bench_naive")
        con.execute(
            """
            create or replace table bench_naive.daily as
            select
                org_id,
                queue_id,
                media_type,
                cast(timezone(?, interval_start) as date) as report_date,
                sum(offered_count) as offered,
                sum(answered_count) as answered,
                sum(abandoned_count) as abandoned,
                sum(sl_numerator) as sl_numerator,
                sum(sl_denominator) as sl_denominator,
                100.0 * sum(sl_numerator) / nullif(sum(sl_denominator), 0) as service_level_pct
            from genesys_raw.queue_intervals
            group by all
            """,
            [report_tz],
        )
        days = con.execute("select count(*) from bench_naive.daily").fetchone()[0]
        con.execute("drop schema bench_naive cascade")
    finally:
        con.close()
    return time.perf_counter() - started, days
