-- Every day of fct_queue_sla_daily carries exactly the sums of its buckets, and every bucket day of the report
-- period (of a queue the mart keeps) has its daily row. Checked for the days holding a bucket the latest build
-- wrote (every day after a full build), straight from the buckets: the path through int_queue_days_summed is
-- what is under test. Returns the mismatches.
{#- after a build that rewrote every bucket (a full build), every day is in scope: no day list to join (a
    semi-join of millions of buckets to every day costs more than summing them) -#}
{%- set whole_table = bucket_model_rebuilt_whole() %}
{#- the latest build, and the span of local days its rows fall on (constants: the bucket scan below filters
    on them before joining, instead of joining every bucket of the table to the touched days) -#}
{%- set latest_build = max_timestamp_literal('built_at', ref('int_queue_intervals_localized'))
    or 'cast(null as timestamptz)' %}
{%- set first_day, last_day = date_span(
    'report_date', ref('int_queue_intervals_localized'), 'built_at = ' ~ latest_build
) %}

with

-- not materialized: DuckDB would copy every bucket into a temporary result to read this CTE twice
intervals as not materialized (

    select * from {{ ref('int_queue_intervals_localized') }}

),

days as (

    select * from {{ ref('fct_queue_sla_daily') }}

),

queues as (

    select * from {{ ref('dim_queues') }}

),

{%- if not whole_table %}

    touched_days as (

        select distinct
            org_id,
            queue_id,
            media_type,
            report_date
        from intervals
        -- a constant: DuckDB reads only the row groups the latest build wrote
        where built_at = {{ latest_build }}

    ),

{%- endif %}

bucket_days as (

    select
        intervals.org_id,
        intervals.queue_id,
        intervals.media_type,
        intervals.report_date,
        sum(intervals.offered) as offered,
        sum(intervals.answered) as answered,
        sum(intervals.handled) as handled,
        sum(intervals.sl_numerator) as sl_numerator,
        sum(intervals.sl_denominator) as sl_denominator
    from intervals
    where
        not intervals.is_removed
        {%- if not whole_table %}
            and exists (
                select 1
                from touched_days
                where
                    intervals.org_id = touched_days.org_id
                    and intervals.queue_id = touched_days.queue_id
                    and intervals.media_type = touched_days.media_type
                    and intervals.report_date = touched_days.report_date
            )
        {%- endif %}
        {%- if first_day and last_day %}
            and intervals.report_date between {{ first_day }} and {{ last_day }}
        {%- endif %}
        and {{ report_date_filter('intervals.report_date') }}
    group by
        intervals.org_id,
        intervals.queue_id,
        intervals.media_type,
        intervals.report_date

),

-- the queues the mart keeps, joined per day rather than per bucket
bucket_days_kept as (

    select bucket_days.*
    from bucket_days
    inner join queues
        on
            bucket_days.org_id = queues.org_id
            and bucket_days.queue_id = queues.queue_id
    where {{ include_deleted_queues() }} or not queues.is_deleted

),

days_in_scope as (

    select days.*
    from
        days
    {%- if not whole_table %}
    inner join touched_days
        on
            days.org_id = touched_days.org_id
            and days.queue_id = touched_days.queue_id
            and days.media_type = touched_days.media_type
            and days.report_date = touched_days.report_date
    {%- endif %}

),

compared as (

    select
        bucket_days_kept.org_id,
        bucket_days_kept.queue_id,
        bucket_days_kept.media_type,
        bucket_days_kept.report_date,
        bucket_days_kept.offered as bucket_offered,
        days_in_scope.offered as daily_offered,
        bucket_days_kept.sl_numerator as bucket_sl_numerator,
        days_in_scope.sl_numerator as daily_sl_numerator,
        bucket_days_kept.sl_denominator as bucket_sl_denominator,
        days_in_scope.sl_denominator as daily_sl_denominator
    from bucket_days_kept
    full outer join days_in_scope
        on
            bucket_days_kept.org_id = days_in_scope.org_id
            and bucket_days_kept.queue_id = days_in_scope.queue_id
            and bucket_days_kept.media_type = days_in_scope.media_type
            and bucket_days_kept.report_date = days_in_scope.report_date
    where
        bucket_days_kept.offered is distinct from days_in_scope.offered
        or bucket_days_kept.answered is distinct from days_in_scope.answered
        or bucket_days_kept.handled is distinct from days_in_scope.handled
        or bucket_days_kept.sl_numerator is distinct from days_in_scope.sl_numerator
        or bucket_days_kept.sl_denominator is distinct from days_in_scope.sl_denominator

)

select * from compared
