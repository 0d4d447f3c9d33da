"""The daily roll-up done the way a one-off script would: a plain Python loop over the bucket rows."""

from __future__ import annotations

import time
from collections import defaultdict
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb


def naive_daily_rollup(db_path: Path, report_tz: str) -> tuple[float, int]:
    """Read every bucket, cut local days and sum numerators/denominators in Python; return (seconds, days)."""
    zone = ZoneInfo(report_tz)
    started = time.perf_counter()
    con = duckdb.connect(str(db_path), read_only=True)
    try:
        con.execute("set TimeZone = 'UTC'")
        con.execute("set enable_progress_bar = false")
        cursor = con.execute(
            "select queue_id, media_type, interval_start, offered_count, answered_count, "
            "abandoned_count, sl_numerator, sl_denominator from genesys_raw.queue_intervals"
        )
        totals: dict[tuple, list[int]] = defaultdict(lambda: [0, 0, 0, 0, 0])
        while rows := cursor.fetchmany(100_000):
            for queue_id, media_type, start, offered, answered, abandoned, num, den in rows:
                key = (queue_id, media_type, start.astimezone(zone).date())
                acc = totals[key]
                acc[0] += offered or 0
                acc[1] += answered or 0
                acc[2] += abandoned or 0
                acc[3] += num or 0
                acc[4] += den or 0
        daily = {key: (100 * acc[3] / acc[4] if acc[4] else None) for key, acc in totals.items()}
    finally:
        con.close()
    return time.perf_counter() - started, len(daily)
