with

intervals as (

    select * from {{ ref('fct_queue_intervals') }}

),

days as (

    select * from {{ ref('fct_queue_sla_daily') }}

),

intervals_in_period as (

    select *
    from intervals
    where {{ report_date_filter('report_date') }}

),

-- sums over the buckets themselves (volume-weighted), not over daily percentages
period_summed as (

    select
        intervals_in_period.org_id,
        intervals_in_period.queue_id,
        intervals_in_period.media_type,
        {{ sla_sums('intervals_in_period') }}
    from intervals_in_period
    group by
        intervals_in_period.org_id,
        intervals_in_period.queue_id,
        intervals_in_period.media_type

),

-- the period's target is the one in force on its last day with data; each day is judged by its own
days_rolled_up as (

    select
        org_id,
        queue_id,
        media_type,
        any_value(queue_name) as queue_name,
        any_value(is_deleted) as is_deleted,
        arg_max(target_pct, report_date) as target_pct,
        -- count_if over only NULLs (every day without SL) is NULL in DuckDB: none of them missed
        coalesce(count_if(not target_met), 0) as days_below_target,
        cast(sum(intervals_below_target) as bigint) as intervals_below_target
    from days
    group by
        org_id,
        queue_id,
        media_type

),

-- inner join: the daily mart already dropped deleted queues when var include_deleted_queues=false
period_joined as (

    select
        period_summed.*,
        days_rolled_up.queue_name,
        days_rolled_up.is_deleted,
        days_rolled_up.target_pct,
        days_rolled_up.days_below_target,
        days_rolled_up.intervals_below_target
    from period_summed
    inner join days_rolled_up
        on
            period_summed.org_id = days_rolled_up.org_id
            and period_summed.queue_id = days_rolled_up.queue_id
            and period_summed.media_type = days_rolled_up.media_type

),

final as (

    select
        org_id,
        queue_id,
        media_type,
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
        intervals_below_target,
        days_below_target
    from period_joined

)

select * from final
