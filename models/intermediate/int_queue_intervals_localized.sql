{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['org_id', 'queue_id', 'media_type', 'interval_start'],
        on_schema_change='fail',
        pre_hook="{{ reset_on_report_change() }}",
    )
}}

with

-- not materialized: DuckDB would copy every bucket into a temporary result to read this CTE twice
intervals as not materialized (

    select * from {{ ref('stg_genesys__queue_intervals') }}

),

changed_intervals as not materialized (

    select intervals.*
    from intervals
    {%- if is_incremental() %}
        -- re-pulled buckets carry the new run's loaded_at; after a reset the table is empty: take all
        -- (a constant: DuckDB then reads only the raw row groups appended since)
        where intervals.loaded_at > {{ incremental_watermark('loaded_at') }}
    {%- endif %}

),

-- local time is computed once per distinct bucket (a few thousand), not per queue row (millions)
distinct_buckets as (

    select distinct
        interval_start,
        interval_end
    from changed_intervals

),

buckets_localized as (

    select
        interval_start,
        interval_end,
        {{ at_time_zone(report_timezone(), 'interval_start') }} as local_start,
        -- the last instant inside the bucket: the end itself belongs to the next bucket
        {{ at_time_zone(report_timezone(), "interval_end - interval '1 microsecond'") }} as local_last_instant
    from distinct_buckets

),

bucket_calendar as (

    select
        interval_start,
        interval_end,
        case
            when cast(local_start as date) <> cast(local_last_instant as date)
                then {{ raise_error(
                    "'bucket ' || " ~ format_timestamp('interval_start', '%Y-%m-%dT%H:%M:%SZ')
                    ~ " || ' straddles local midnight in " ~ report_timezone() ~ ", so it cannot be cut into local"
                    ~ " days; reload at PT30M (granularity = \"PT30M\"; PT15M for 45-minute offsets) and build again'",
                    'date'
                ) }}
            else cast(local_start as date)
        end as report_date,
        60 * {{ hour_of('local_start') }} + {{ minute_of('local_start') }} as report_minute_of_day
    from buckets_localized

),

upserted as (

    select
        -- keys
        changed_intervals.org_id,
        changed_intervals.queue_id,
        changed_intervals.media_type,
        changed_intervals.interval_start,
        changed_intervals.interval_end,

        -- local calendar of the bucket start (fct_queue_intervals derives report_hour from the minute)
        bucket_calendar.report_date,
        bucket_calendar.report_minute_of_day,

        -- counts
        changed_intervals.offered_count as offered,
        changed_intervals.answered_count as answered,
        changed_intervals.abandoned_count as abandoned,
        changed_intervals.short_abandoned_count as short_abandoned,
        changed_intervals.flow_out_count as flow_outs,
        changed_intervals.handled_count as handled,
        changed_intervals.wait_count as waited,
        changed_intervals.over_sla_count as over_sla,

        -- durations (milliseconds)
        changed_intervals.answered_ms_sum,
        changed_intervals.abandoned_ms_sum,
        changed_intervals.handle_ms_sum,
        changed_intervals.wait_ms_sum,

        -- service level under var sl_formula (its percentage is computed where it is read: one column less
        -- to write for every bucket)
        {{ sl_numerator_sql() }} as sl_numerator,
        {{ sl_denominator_sql() }} as sl_denominator,
        -- double on both sides of the union with tombstones, whatever numeric type the raw column has
        cast(changed_intervals.sl_target_pct as {{ type_double() }}) as api_target_pct,

        -- load and build metadata; the report settings as one hash (the reset of reset_on_report_change)
        changed_intervals.loaded_at,
        {{ report_settings_hash() }} as report_settings_hash,
        false as is_removed,
        {{ build_started_at() }} as built_at

    from changed_intervals
    inner join bucket_calendar
        on
            changed_intervals.interval_start = bucket_calendar.interval_start
            and changed_intervals.interval_end = bucket_calendar.interval_end

),

{%- if is_incremental() %}

    -- where removed buckets can be: the loader deletes buckets only where it re-pulls, i.e. from the earliest
    -- changed bucket on. Before it, equal row counts prove nothing was removed; otherwise (or with no change
    -- at all but fewer rows) every stored bucket is checked. Keeps the anti-join to a few days, not millions.
    removal_scope as (

        select
            case
                when
                    (
                        select count(*)
                        from {{ this }} as kept
                        where not kept.is_removed and kept.interval_start < earliest_change.interval_start
                    )
                    = (
                        select count(*)
                        from intervals
                        where intervals.interval_start < earliest_change.interval_start
                    )
                    then earliest_change.interval_start
                else cast('-infinity' as timestamptz)
            end as scope_start
        from (
            select coalesce(min(changed_intervals.interval_start), cast('infinity' as timestamptz)) as interval_start
            from changed_intervals
        ) as earliest_change

    ),

    intervals_in_scope as (

        select
            intervals.org_id,
            intervals.queue_id,
            intervals.media_type,
            intervals.interval_start
        from intervals
        where intervals.interval_start >= (select removal_scope.scope_start from removal_scope)

    ),

    -- buckets the loader removed (a re-pulled window that no longer returns them, or a reload at another
    -- granularity) stay as tombstones: the day model downstream learns from them which days to re-sum
    removed as (

        select
            kept.org_id,
            kept.queue_id,
            kept.media_type,
            kept.interval_start,
            kept.interval_end,
            kept.report_date,
            kept.report_minute_of_day,
            cast(0 as bigint) as offered,
            cast(0 as bigint) as answered,
            cast(0 as bigint) as abandoned,
            cast(0 as bigint) as short_abandoned,
            cast(0 as bigint) as flow_outs,
            cast(0 as bigint) as handled,
            cast(0 as bigint) as waited,
            cast(0 as bigint) as over_sla,
            cast(0 as bigint) as answered_ms_sum,
            cast(0 as bigint) as abandoned_ms_sum,
            cast(0 as bigint) as handle_ms_sum,
            cast(0 as bigint) as wait_ms_sum,
            cast(0 as bigint) as sl_numerator,
            cast(0 as bigint) as sl_denominator,
            cast(null as {{ type_double() }}) as api_target_pct,
            kept.loaded_at,
            kept.report_settings_hash,
            true as is_removed,
            {{ build_started_at() }} as built_at
        from {{ this }} as kept
        where
            not kept.is_removed
            and kept.interval_start >= (select removal_scope.scope_start from removal_scope)
            and not exists (
                select 1
                from intervals_in_scope
                where
                    intervals_in_scope.org_id = kept.org_id
                    and intervals_in_scope.queue_id = kept.queue_id
                    and intervals_in_scope.media_type = kept.media_type
                    and intervals_in_scope.interval_start = kept.interval_start
            )

    ),

    final as (

        select * from upserted
        union all
        select * from removed

    )

{%- else %}

    final as (

        select * from upserted

    )

{%- endif %}

select * from final
