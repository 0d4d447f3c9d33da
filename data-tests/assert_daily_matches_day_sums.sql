-- Whole-table, every build (one row per day, cheap): fct_queue_sla_daily holds exactly the days of
-- int_queue_days_summed in the report period (of the queues it keeps), with their sums. Catches a day the
-- difference-based incremental mart failed to write or to delete. Returns the mismatches.
with

day_sums as (

    select * from {{ ref('int_queue_days_summed') }}

),

days as (

    select * from {{ ref('fct_queue_sla_daily') }}

),

queues as (

    select * from {{ ref('dim_queues') }}

),

wanted as (

    select day_sums.*
    from day_sums
    inner join queues
        on
            day_sums.org_id = queues.org_id
            and day_sums.queue_id = queues.queue_id
    where
        {{ report_date_filter('day_sums.report_date') }}
        and ({{ include_deleted_queues() }} or not queues.is_deleted)

),

compared as (

    select
        coalesce(wanted.org_id, days.org_id) as org_id,
        coalesce(wanted.queue_id, days.queue_id) as queue_id,
        coalesce(wanted.media_type, days.media_type) as media_type,
        coalesce(wanted.report_date, days.report_date) as report_date,
        wanted.offered as summed_offered,
        days.offered as daily_offered
    from wanted
    full outer join days
        on
            wanted.org_id = days.org_id
            and wanted.queue_id = days.queue_id
            and wanted.media_type = days.media_type
            and wanted.report_date = days.report_date
    where
        wanted.offered is distinct from days.offered
        or wanted.answered is distinct from days.answered
        or wanted.abandoned is distinct from days.abandoned
        or wanted.handled is distinct from days.handled
        or wanted.sl_numerator is distinct from days.sl_numerator
        or wanted.sl_denominator is distinct from days.sl_denominator

)

select * from compared
