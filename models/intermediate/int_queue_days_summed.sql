{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['org_id', 'queue_id', 'media_type', 'report_date'],
        on_schema_change='fail',
        pre_hook="{{ reset_on_report_change() }}",
        post_hook="{{ delete_empty_days() }}",
    )
}}

with

-- not materialized: DuckDB would copy every bucket into a temporary result to read this CTE twice
intervals as not materialized (

    select * from {{ ref('int_queue_intervals_localized') }}

),

{%- if is_incremental() %}

    -- the local days holding a bucket the upstream model rebuilt (or removed) since this model last ran
    touched_days as (

        select distinct
            org_id,
            queue_id,
            media_type,
            report_date
        from intervals
        -- the watermark as a constant: DuckDB then reads only the row groups the upstream build appended
        where built_at > {{ incremental_watermark('source_built_at') }}

    ),

{%- endif %}

live_intervals as (

    select intervals.*
    from
        intervals
    {%- if is_incremental() %}
    inner join touched_days
        on
            intervals.org_id = touched_days.org_id
            and intervals.queue_id = touched_days.queue_id
            and intervals.media_type = touched_days.media_type
            and intervals.report_date = touched_days.report_date
    {%- endif %}
    where not intervals.is_removed

),

days_summed as (

    select
        live_intervals.org_id,
        live_intervals.queue_id,
        live_intervals.media_type,
        live_intervals.report_date,
        count(*) as bucket_count,
        {{ sla_sums('live_intervals') }},
        -- the API target of the day is the one reported with its last bucket that has one
        {{ arg_max(
            'live_intervals.api_target_pct', 'live_intervals.interval_start',
            where='live_intervals.api_target_pct is not null'
        ) }} as api_target_pct,
        -- each bucket's own SL (buckets without SL left out): the daily mart counts those below the day's
        -- target from this list, so a changed target never needs the buckets again (sorted per day: an ordered
        -- aggregate would buffer every bucket of the table on a full build)
        {{ sorted_list_agg(service_level_pct_sql('live_intervals')) }} as bucket_service_level_pcts
    from live_intervals
    group by
        live_intervals.org_id,
        live_intervals.queue_id,
        live_intervals.media_type,
        live_intervals.report_date

),

{%- if is_incremental() %}

    -- a touched day whose buckets were all removed gets a row with bucket_count 0: delete+insert then
    -- replaces the stored day, and the post-hook drops the empty row
    days_of_touched as (

        select
            touched_days.org_id,
            touched_days.queue_id,
            touched_days.media_type,
            touched_days.report_date,
            days_summed.bucket_count,
            days_summed.offered,
            days_summed.answered,
            days_summed.abandoned,
            days_summed.short_abandoned,
            days_summed.flow_outs,
            days_summed.handled,
            days_summed.sl_numerator,
            days_summed.sl_denominator,
            days_summed.answered_ms_sum,
            days_summed.handle_ms_sum,
            days_summed.api_target_pct,
            days_summed.bucket_service_level_pcts
        from touched_days
        left join days_summed
            on
                touched_days.org_id = days_summed.org_id
                and touched_days.queue_id = days_summed.queue_id
                and touched_days.media_type = days_summed.media_type
                and touched_days.report_date = days_summed.report_date

    ),

{%- else %}

    -- a full build sums every day: no list of touched days to join
    days_of_touched as (

        select * from days_summed

    ),

{%- endif %}

final as (

    select
        org_id,
        queue_id,
        media_type,
        report_date,
        coalesce(bucket_count, 0) as bucket_count,
        coalesce(offered, 0) as offered,
        coalesce(answered, 0) as answered,
        coalesce(abandoned, 0) as abandoned,
        coalesce(short_abandoned, 0) as short_abandoned,
        coalesce(flow_outs, 0) as flow_outs,
        coalesce(handled, 0) as handled,
        coalesce(sl_numerator, 0) as sl_numerator,
        coalesce(sl_denominator, 0) as sl_denominator,
        coalesce(answered_ms_sum, 0) as answered_ms_sum,
        coalesce(handle_ms_sum, 0) as handle_ms_sum,
        api_target_pct,
        coalesce(bucket_service_level_pcts, {{ empty_double_list() }}) as bucket_service_level_pcts,
        {{ report_settings_hash() }} as report_settings_hash,
        -- watermark: the newest upstream build this row has seen
        (select max(intervals.built_at) from intervals) as source_built_at,
        {{ build_started_at() }} as built_at
    from days_of_touched

)

select * from final
