-- fct_queue_sla_period holds, per org, queue and media type, the sums of its days in fct_queue_sla_daily
-- and their count of missed days. Returns the mismatches.
with

days as (

    select * from {{ ref('fct_queue_sla_daily') }}

),

periods as (

    select * from {{ ref('fct_queue_sla_period') }}

),

days_summed as (

    select
        org_id,
        queue_id,
        media_type,
        sum(offered) as offered,
        sum(answered) as answered,
        sum(sl_numerator) as sl_numerator,
        sum(sl_denominator) as sl_denominator,
        sum(intervals_below_target) as intervals_below_target,
        {{ count_if('not target_met') }} as days_below_target
    from days
    group by
        org_id,
        queue_id,
        media_type

),

compared as (

    select
        days_summed.org_id,
        days_summed.queue_id,
        days_summed.media_type,
        periods.queue_id as period_queue_id,
        days_summed.offered as daily_offered,
        periods.offered as period_offered
    from days_summed
    full outer join periods
        on
            days_summed.org_id = periods.org_id
            and days_summed.queue_id = periods.queue_id
            and days_summed.media_type = periods.media_type
    where
        days_summed.queue_id is null
        or periods.queue_id is null
        or days_summed.offered <> periods.offered
        or days_summed.answered <> periods.answered
        or days_summed.sl_numerator <> periods.sl_numerator
        or days_summed.sl_denominator <> periods.sl_denominator
        or days_summed.intervals_below_target <> periods.intervals_below_target
        or days_summed.days_below_target <> periods.days_below_target

)

select * from compared
