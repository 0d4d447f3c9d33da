-- Every day of fct_queue_sla_daily carries exactly the sums of its buckets in fct_queue_intervals, and every
-- bucket day of the report period (of a queue the mart keeps) has its daily row. Returns the mismatches.
with

intervals as (

    select * from {{ ref('fct_queue_intervals') }}

),

days as (

    select * from {{ ref('fct_queue_sla_daily') }}

),

queues as (

    select * from {{ ref('dim_queues') }}

),

bucket_days as (

    select
        intervals.org_id,
        intervals.queue_id,
        intervals.media_type,
        intervals.report_date,
        sum(intervals.offered) as offered,
        sum(intervals.sl_numerator) as sl_numerator,
        sum(intervals.sl_denominator) as sl_denominator
    from intervals
    inner join queues
        on
            intervals.org_id = queues.org_id
            and intervals.queue_id = queues.queue_id
    where
        {{ report_date_filter('intervals.report_date') }}
        and ({{ include_deleted_queues() }} or not queues.is_deleted)
    group by
        intervals.org_id,
        intervals.queue_id,
        intervals.media_type,
        intervals.report_date

),

compared as (

    select
        bucket_days.org_id,
        bucket_days.queue_id,
        bucket_days.media_type,
        bucket_days.report_date,
        bucket_days.offered as bucket_offered,
        days.offered as daily_offered,
        bucket_days.sl_numerator as bucket_sl_numerator,
        days.sl_numerator as daily_sl_numerator,
        bucket_days.sl_denominator as bucket_sl_denominator,
        days.sl_denominator as daily_sl_denominator
    from bucket_days
    full outer join days
        on
            bucket_days.org_id = days.org_id
            and bucket_days.queue_id = days.queue_id
            and bucket_days.media_type = days.media_type
            and bucket_days.report_date = days.report_date

)

select *
from compared
where
    bucket_offered is distinct from daily_offered
    or bucket_sl_numerator is distinct from daily_sl_numerator
    or bucket_sl_denominator is distinct from daily_sl_denominator
