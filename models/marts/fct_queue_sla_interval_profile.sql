{#- Sums every bucket of the period per local weekday and time of day, each judged by its own day's target,
    then names the queues and shows the period's target. Rebuilt whole by every build: one pass over the
    buckets (about 1.5 s for 8.76M) costs less than keeping per-month sums current (README "The models"). -#}

with

intervals as (

    select * from {{ ref('int_queue_intervals_localized') }}

),

day_targets as (

    select * from {{ ref('int_queue_day_targets_resolved') }}

),

queues as (

    select * from {{ ref('dim_queues') }}

),

intervals_in_period as (

    select *
    from intervals
    -- tombstones of removed buckets carry no counts
    where not is_removed and {{ report_date_filter('report_date') }}

),

-- each bucket judged by the target in force on its own local day, as in fct_queue_sla_daily
intervals_profiled as (

    select
        intervals_in_period.org_id,
        intervals_in_period.queue_id,
        intervals_in_period.media_type,
        intervals_in_period.report_date,
        -- a bucket never straddles local midnight (int_queue_intervals_localized refuses it): its weekday is its day's
        {{ iso_weekday('intervals_in_period.report_date') }} as local_weekday,
        -- localized once, in int_queue_intervals_localized (DST and half-hour zones are pinned there)
        {{ time_of_day('intervals_in_period.report_minute_of_day') }} as local_time_of_day,
        intervals_in_period.offered,
        intervals_in_period.answered,
        intervals_in_period.abandoned,
        intervals_in_period.sl_numerator,
        intervals_in_period.sl_denominator,
        intervals_in_period.sl_denominator > 0 as has_volume,
        coalesce(
            {{ service_level_pct_sql('intervals_in_period') }} >= day_targets.target_pct, false
        ) as is_meeting_target
    from intervals_in_period
    inner join day_targets
        on
            intervals_in_period.org_id = day_targets.org_id
            and intervals_in_period.queue_id = day_targets.queue_id
            and intervals_in_period.media_type = day_targets.media_type
            and intervals_in_period.report_date = day_targets.report_date

),

-- the profile's target is the period's: the one in force on the last local day with data (fct_queue_sla_period)
period_targets as (

    select
        org_id,
        queue_id,
        media_type,
        {{ arg_max('target_pct', 'report_date') }} as target_pct
    from day_targets
    where {{ report_date_filter('report_date') }}
    group by
        org_id,
        queue_id,
        media_type

),

-- volume-weighted: counts, numerators and denominators summed over every bucket of the slot, then divided
slots_summed as (

    select
        org_id,
        queue_id,
        media_type,
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
        local_weekday,
        local_time_of_day

),

slots_named as (

    select
        slots_summed.*,
        queues.queue_name,
        queues.is_deleted,
        period_targets.target_pct
    from slots_summed
    inner join queues
        on
            slots_summed.org_id = queues.org_id
            and slots_summed.queue_id = queues.queue_id
    inner join period_targets
        on
            slots_summed.org_id = period_targets.org_id
            and slots_summed.queue_id = period_targets.queue_id
            and slots_summed.media_type = period_targets.media_type
    {%- if not include_deleted_queues() %}
        -- var include_deleted_queues=false: a report on active queues only
        where not queues.is_deleted
    {%- endif %}

),

final as (

    select
        org_id,
        queue_id,
        media_type,
        local_weekday,
        local_time_of_day,
        queue_name,
        is_deleted,
        offered,
        answered,
        abandoned,
        sl_numerator,
        sl_denominator,
        {{ service_level_pct_sql() }} as service_level_pct,
        target_pct,
        intervals,
        intervals_meeting_target
    from slots_named

)

select * from final
