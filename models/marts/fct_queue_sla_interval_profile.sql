{#- Adds up int_queue_slots_by_month (the period's buckets summed per month and slot, each judged by its own
    day's target), then names the queues and shows the period's target. -#}

with

months as (

    select * from {{ ref('int_queue_slots_by_month') }}

),

day_targets as (

    select * from {{ ref('int_queue_day_targets_resolved') }}

),

queues as (

    select * from {{ ref('dim_queues') }}

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
        cast(sum(intervals) as bigint) as intervals,
        cast(sum(intervals_meeting_target) as bigint) as intervals_meeting_target
    from months
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
        100 * cast(sl_numerator as {{ type_double() }}) / nullif(sl_denominator, 0) as service_level_pct,
        target_pct,
        intervals,
        intervals_meeting_target
    from slots_named

)

select * from final
