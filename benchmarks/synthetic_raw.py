"""Synthetic raw tables at benchmark scale, generated inside DuckDB in seconds.

The dbt benchmark needs one year x 500 queues x 2 media of PT1H buckets (8.76M rows). Pulling that
through the loader would measure the loader again; here DuckDB writes rows with the loader's exact
raw-table schema directly, with counts that obey the Genesys identities (offered =
answered + abandoned + flow_outs, numerator = answered - over_sla, denominator = answered + abandoned).
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import duckdb

ORG_ID = "bench"


def create_synthetic_raw(db_path: Path, *, queues: int, days: int, first_day: date) -> int:
    """Write genesys_raw.{queues, queue_service_level_targets, queue_intervals}; return the bucket rows."""
    con = duckdb.connect(str(db_path))
    try:
        con.execute("set TimeZone = 'UTC'")
        con.execute("set enable_progress_bar = false")
        con.execute("create schema if not exists genesys_raw")
        con.execute(
            f"""
            create or replace table genesys_raw.queues as
            select
                '{ORG_ID}' as org_id,
                'bench-queue-' || lpad(i::varchar, 4, '0') as queue_id,
                'Bench Queue ' || lpad(i::varchar, 4, '0') as name,
                'division-' || (i % 3)::varchar as division_id,
                'Division ' || (i % 3)::varchar as division_name,
                timestamptz '{first_day.isoformat()} 00:00:00+00' as first_seen_at,
                now() as last_seen_at,
                'bench-load' as _dlt_load_id,
                'q' || i::varchar as _dlt_id
            from range({queues}) as t (i)
            """
        )
        con.execute(
            f"""
            create or replace table genesys_raw.queue_service_level_targets as
            select
                q.org_id,
                q.queue_id,
                m.media_type,
                case m.media_type when 'voice' then 0.8 else 0.9 end as target_ratio,
                case m.media_type when 'voice' then 20000 else 60000 end::bigint as threshold_ms,
                timestamptz '{first_day.isoformat()} 00:00:00+00' as _dlt_valid_from,
                null::timestamptz as _dlt_valid_to,
                'bench-load' as _dlt_load_id,
                q._dlt_id || m.media_type as _dlt_id
            from genesys_raw.queues as q
            cross join (select unnest(['voice', 'message']) as media_type) as m
            """
        )
        con.execute(
            f"""
            create or replace table genesys_raw.queue_intervals as
            with buckets as (
                select
                    q.org_id,
                    q.queue_id,
                    m.media_type,
                    timestamptz '{first_day.isoformat()} 00:00:00+00' + to_hours(h.i) as interval_start,
                    hash(q.queue_id, m.media_type, h.i) as hv
                from genesys_raw.queues as q
                cross join (select unnest(['voice', 'message']) as media_type) as m
                cross join range({days * 24}) as h (i)
            ),
            counts as (
                select
                    *,
                    (hv % 60)::bigint as answered_count,
                    ((hv >> 8) % 8)::bigint as abandoned_count,
                    ((hv >> 16) % 3)::bigint as flow_out_count
                from buckets
            ),
            derived as (
                select
                    *,
                    (((hv >> 24) % 100) * answered_count // 100)::bigint as over_sla_count,
                    (((hv >> 32) % 50) * abandoned_count // 100)::bigint as short_abandoned_count
                from counts
            )
            select
                org_id,
                queue_id,
                media_type,
                interval_start,
                interval_start + interval 1 hour as interval_end,
                answered_count + abandoned_count + flow_out_count as offered_count,
                answered_count,
                -- the loader's types: bigint counts and sums (hv is ubigint: the product would be a 128-bit
                -- integer, slower to copy than the loader's column), a double target ratio
                (answered_count * (5000 + (hv >> 40) % 30000))::bigint as answered_ms_sum,
                abandoned_count,
                abandoned_count * 40000 as abandoned_ms_sum,
                short_abandoned_count,
                flow_out_count,
                answered_count as handled_count,
                answered_count * 300000 as handle_ms_sum,
                answered_count + abandoned_count + flow_out_count as wait_count,
                (answered_count + abandoned_count + flow_out_count) * 20000 as wait_ms_sum,
                over_sla_count,
                answered_count - over_sla_count as sl_numerator,
                answered_count + abandoned_count as sl_denominator,
                (case media_type when 'voice' then 0.8 else 0.9 end)::double as sl_target_ratio,
                now() as loaded_at,
                'bench-load' as _dlt_load_id,
                md5(queue_id || media_type || interval_start::varchar) as _dlt_id
            from derived
            """
        )
        return con.execute("select count(*) from genesys_raw.queue_intervals").fetchone()[0]
    finally:
        con.close()


def append_next_day(db_path: Path, *, first_day: date, days: int) -> int:
    """The next daily load: the day after the last one, and the last 24 hours re-pulled with grown counts.

    As the loader does (lookback re-pull, genesys_raw merge on the key): the re-pulled buckets are replaced
    and carry the new run's loaded_at. Returns how many bucket rows this load wrote.
    """
    last_day = first_day + timedelta(days=days - 1)
    con = duckdb.connect(str(db_path))
    try:
        con.execute("set TimeZone = 'UTC'")
        con.execute("set enable_progress_bar = false")
        con.execute(
            f"""
            create temp table next_load as
            select
                * replace (
                    -- the copy of the last day becomes the new day; the original is the re-pulled one
                    interval_start + to_days(cast(is_copy as integer)) as interval_start,
                    interval_end + to_days(cast(is_copy as integer)) as interval_end,
                    offered_count + cast(not is_copy as bigint) as offered_count,
                    abandoned_count + cast(not is_copy as bigint) as abandoned_count,
                    sl_denominator + cast(not is_copy as bigint) as sl_denominator,
                    now() + interval 1 day as loaded_at,
                    'bench-load-2' as _dlt_load_id
                )
            from (
                select *, unnest([false, true]) as is_copy
                from genesys_raw.queue_intervals
                where interval_start >= timestamptz '{last_day.isoformat()} 00:00:00+00'
            )
            """
        )
        con.execute("alter table next_load drop column is_copy")
        con.execute(
            """
            delete from genesys_raw.queue_intervals as raw
            where exists (
                select 1 from next_load
                where next_load.queue_id = raw.queue_id and next_load.media_type = raw.media_type
                    and next_load.interval_start = raw.interval_start
            )
            """
        )
        con.execute("insert into genesys_raw.queue_intervals by name select * from next_load")
        return con.execute("select count(*) from next_load").fetchone()[0]
    finally:
        con.close()
