with

intervals as (

    select * from {{ ref('fct_queue_intervals') }}

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
    where {{ report_date_filter('report_date') }}

),

-- each bucket judged by the target in force on its day; a bucket without SL (NULL) never counts
intervals_targeted as (

    select
        intervals_in_period.*,
        day_targets.target_pct,
        coalesce(intervals_in_period.service_level_pct < day_targets.target_pct, false) as is_below_target
    from intervals_in_period
    inner join day_targets
        on
            intervals_in_period.org_id = day_targets.org_id
            and intervals_in_period.queue_id = day_targets.queue_id
            and intervals_in_period.media_type = day_targets.media_type
            and intervals_in_period.report_date = day_targets.report_date

),

days_summed as (

    select
        intervals_targeted.org_id,
        intervals_targeted.queue_id,
        intervals_targeted.media_type,
        intervals_targeted.report_date,
        {{ sla_sums('intervals_targeted') }},
        any_value(intervals_targeted.target_pct) as target_pct,
        count_if(intervals_targeted.is_below_target) as intervals_below_target
    from intervals_targeted
    group by
        intervals_targeted.org_id,
        intervals_targeted.queue_id,
        intervals_targeted.media_type,
        intervals_targeted.report_date

),

days_named as (

    select
        days_summed.*,
        queues.queue_name,
        queues.is_deleted
    from days_summed
    inner join queues
        on
            days_summed.org_id = queues.org_id
            and days_summed.queue_id = queues.queue_id
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
        report_date,
        queue_name,
        is_deleted,
        offered,
        answered,
        abandoned,
        short_abandoned,
        flow_outs,
        handled,
        sl_numerator,
        sl_denominator,
        {{ sla_ratios() }},
        intervals_below_target
    from days_named

)

select * from final
