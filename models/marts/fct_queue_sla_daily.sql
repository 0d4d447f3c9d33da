{#- Incremental by difference: every day is recomputed from int_queue_days_summed (one row per day, not per
    bucket), compared with the stored mart, and only new or changed rows are written; the post-hook deletes
    days no longer wanted. Anything a day depends on (its buckets, its target, its queue's name, the report
    vars) thus rewrites exactly the days it changes. -#}
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['org_id', 'queue_id', 'media_type', 'report_date'],
        on_schema_change='fail',
        post_hook="{{ delete_unwanted_rows(
            ['org_id', 'queue_id', 'media_type', 'report_date'], wanted_daily_keys_sql()
        ) }}",
    )
}}

with

days as (

    select * from {{ ref('int_queue_days_summed') }}
    where {{ report_date_filter('report_date') }}

),

day_targets as (

    select * from {{ ref('int_queue_day_targets_resolved') }}

),

queues as (

    select * from {{ ref('dim_queues') }}

),

-- each bucket is judged by its day's target and a
-- bucket without SL (NULL) never counts
days_targeted as (

    select
        days.*,
        day_targets.target_pct,
        {{ count_below('days.bucket_service_level_pcts', 'day_targets.target_pct') }} as intervals_below_target
    from days
    inner join day_targets
        on
            days.org_id = day_targets.org_id
            and days.queue_id = day_targets.queue_id
            and days.media_type = day_targets.media_type
            and days.report_date = day_targets.report_date

),

days_named as (

    select
        days_targeted.*,
        queues.queue_name,
        queues.is_deleted
    from days_targeted
    inner join queues
        on
            days_targeted.org_id = queues.org_id
            and days_targeted.queue_id = queues.queue_id
    {%- if not include_deleted_queues() %}
        -- var include_deleted_queues=false: a report on active queues only
        where not queues.is_deleted
    {%- endif %}

),

wanted as (

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
        cast(intervals_below_target as bigint) as intervals_below_target
    from days_named

),

final as (

    select * from wanted
    {%- if is_incremental() %}
        -- set difference: rows already stored exactly so are not rewritten
        except
        select * from {{ this }}  -- noqa: AM04
    {%- endif %}

)

select * from final  -- noqa: AM04
