{#- The interval profile's sums, one month at a time: fct_queue_sla_interval_profile adds the months up, so
    a build re-sums only the months it must instead of every bucket of the period. A month is re-summed when
    int_queue_intervals_localized rebuilt or removed one of its buckets since this model last ran (watermark
    source_built_at), or when a day target of the month changed (day_targets_checksum differs): each bucket is
    judged by its own day's target. A month left without buckets keeps a row without slot (local_weekday
    null) so that delete+insert replaces it; the post-hook drops that row. Emptied and rebuilt when the report
    zone, formula or period changes. -#}
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['org_id', 'queue_id', 'media_type', 'report_month'],
        on_schema_change='fail',
        pre_hook="{{ reset_on_report_change(with_range=true) }}",
        post_hook="delete from {{ this }} where local_weekday is null",
    )
}}

with

-- not materialized: DuckDB would copy every bucket into a temporary result to read this CTE twice
intervals as not materialized (

    select * from {{ ref('int_queue_intervals_localized') }}

),

day_targets as (

    select * from {{ ref('int_queue_day_targets_resolved') }}
    where {{ report_date_filter('report_date') }}

),

-- the day targets each month's buckets are judged against, as one comparable value
month_targets as (

    select
        org_id,
        queue_id,
        media_type,
        {{ month_start('report_date') }} as report_month,
        -- order-free: each day's (date, target) hashed, the month's hashes xor-ed (a change goes unseen only
        -- if it keeps all 64 bits, about one chance in 2^64)
        bit_xor({{ row_hash(['report_date', 'target_pct']) }}) as day_targets_checksum
    from day_targets
    group by
        org_id,
        queue_id,
        media_type,
        {{ month_start('report_date') }}

),

{%- if is_incremental() %}

    -- months holding a bucket the upstream model rebuilt (or removed) since this model last ran
    rebuilt_months as (

        select distinct
            org_id,
            queue_id,
            media_type,
            {{ month_start('report_date') }} as report_month
        from intervals
        -- the watermark as a constant: DuckDB then reads only the row groups the upstream build appended
        where
            built_at > {{ incremental_watermark('source_built_at', with_range=true) }}
            and {{ report_date_filter('report_date') }}

    ),

    stored_months as (

        select distinct
            org_id,
            queue_id,
            media_type,
            report_month,
            day_targets_checksum
        from {{ this }}

    ),

    -- months whose buckets would now be judged against another target
    retargeted_months as (

        select
            month_targets.org_id,
            month_targets.queue_id,
            month_targets.media_type,
            month_targets.report_month
        from month_targets
        left join stored_months
            on
                month_targets.org_id = stored_months.org_id
                and month_targets.queue_id = stored_months.queue_id
                and month_targets.media_type = stored_months.media_type
                and month_targets.report_month = stored_months.report_month
        where stored_months.day_targets_checksum is distinct from month_targets.day_targets_checksum

    ),

    touched_months as (

        select * from rebuilt_months
        union
        select * from retargeted_months

    ),

    first_touched as (

        select min(report_month) as report_month
        from touched_months

    ),

{%- endif %}

live_intervals as (

    select
        intervals.*,
        {{ month_start('intervals.report_date') }} as report_month
    from
        intervals
    {%- if is_incremental() %}
    inner join touched_months
        on
            intervals.org_id = touched_months.org_id
            and intervals.queue_id = touched_months.queue_id
            and intervals.media_type = touched_months.media_type
            and {{ month_start('intervals.report_date') }} = touched_months.report_month
    {%- endif %}
    where
        not intervals.is_removed
        and {{ report_date_filter('intervals.report_date') }}
        -- incremental: a cheap filter before the join, as most builds touch only the latest month or two
        and {{ 'intervals.report_date >= (select first_touched.report_month from first_touched)'
            if is_incremental() else 'true' }}

),

-- each bucket judged by the target in force on its own local day, as in fct_queue_sla_daily
intervals_profiled as (

    select
        live_intervals.org_id,
        live_intervals.queue_id,
        live_intervals.media_type,
        live_intervals.report_month,
        -- a bucket never straddles local midnight (int_queue_intervals_localized refuses it): its weekday is
        -- its day's
        {{ iso_weekday('live_intervals.report_date') }} as local_weekday,
        -- localized once, in int_queue_intervals_localized (DST and half-hour zones are pinned there)
        {{ time_of_day('live_intervals.report_minute_of_day') }} as local_time_of_day,
        live_intervals.offered,
        live_intervals.answered,
        live_intervals.abandoned,
        live_intervals.sl_numerator,
        live_intervals.sl_denominator,
        live_intervals.sl_denominator > 0 as has_volume,
        coalesce(live_intervals.service_level_pct >= day_targets.target_pct, false) as is_meeting_target
    from live_intervals
    inner join day_targets
        on
            live_intervals.org_id = day_targets.org_id
            and live_intervals.queue_id = day_targets.queue_id
            and live_intervals.media_type = day_targets.media_type
            and live_intervals.report_date = day_targets.report_date

),

-- volume-weighted: counts, numerators and denominators summed over every bucket of the slot
months_summed as (

    select
        org_id,
        queue_id,
        media_type,
        report_month,
        local_weekday,
        local_time_of_day,
        cast(sum(offered) as bigint) as offered,
        cast(sum(answered) as bigint) as answered,
        cast(sum(abandoned) as bigint) as abandoned,
        cast(sum(sl_numerator) as bigint) as sl_numerator,
        cast(sum(sl_denominator) as bigint) as sl_denominator,
        -- bigint: DuckDB's count_if is a 128-bit integer, several times slower to store and read
        cast({{ count_if('has_volume') }} as bigint) as intervals,
        cast({{ count_if('has_volume and is_meeting_target') }} as bigint) as intervals_meeting_target
    from intervals_profiled
    group by
        org_id,
        queue_id,
        media_type,
        report_month,
        local_weekday,
        local_time_of_day

),

{%- if is_incremental() %}

    -- every touched month gets rows: its slots, or one row without slot when its buckets are all gone
    months_of_touched as (

        select
            touched_months.org_id,
            touched_months.queue_id,
            touched_months.media_type,
            touched_months.report_month,
            months_summed.local_weekday,
            months_summed.local_time_of_day,
            months_summed.offered,
            months_summed.answered,
            months_summed.abandoned,
            months_summed.sl_numerator,
            months_summed.sl_denominator,
            months_summed.intervals,
            months_summed.intervals_meeting_target
        from touched_months
        left join months_summed
            on
                touched_months.org_id = months_summed.org_id
                and touched_months.queue_id = months_summed.queue_id
                and touched_months.media_type = months_summed.media_type
                and touched_months.report_month = months_summed.report_month

    ),

{%- else %}

    months_of_touched as (

        select * from months_summed

    ),

{%- endif %}

final as (

    select
        months_of_touched.org_id,
        months_of_touched.queue_id,
        months_of_touched.media_type,
        months_of_touched.report_month,
        months_of_touched.local_weekday,
        months_of_touched.local_time_of_day,
        months_of_touched.offered,
        months_of_touched.answered,
        months_of_touched.abandoned,
        months_of_touched.sl_numerator,
        months_of_touched.sl_denominator,
        months_of_touched.intervals,
        months_of_touched.intervals_meeting_target,
        month_targets.day_targets_checksum,
        '{{ report_timezone() }}' as report_timezone,
        '{{ sl_formula() }}' as sl_formula,
        '{{ report_range_label() }}' as report_range,
        -- watermark: the newest upstream build this row has seen
        (select max(intervals.built_at) from intervals) as source_built_at,
        {{ build_started_at() }} as built_at
    from months_of_touched
    left join month_targets
        on
            months_of_touched.org_id = month_targets.org_id
            and months_of_touched.queue_id = month_targets.queue_id
            and months_of_touched.media_type = month_targets.media_type
            and months_of_touched.report_month = month_targets.report_month

)

select * from final
