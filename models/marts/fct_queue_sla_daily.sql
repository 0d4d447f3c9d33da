{#- Incremental by difference: the days that can differ from the stored mart are recomputed from
    int_queue_days_summed (one row per day, not per bucket), compared with the stored rows, and only new or
    changed rows are written; the post-hook deletes days no longer wanted. A day's row depends on its sums
    (rebuilt since the last successful build: built_at), its target and its queue's name (compared with the
    stored row) and the report vars (a new zone or formula rebuilds every sum; a new range adds days not
    stored): anything else is the row already stored. -#}
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

{%- if is_incremental() %}

    -- the days whose row may change: everything else is stored exactly so already
    days_to_compare as (

        select days.*
        from days
        inner join day_targets
            on
                days.org_id = day_targets.org_id
                and days.queue_id = day_targets.queue_id
                and days.media_type = day_targets.media_type
                and days.report_date = day_targets.report_date
        inner join queues
            on
                days.org_id = queues.org_id
                and days.queue_id = queues.queue_id
        left join {{ this }} as stored_days
            on
                days.org_id = stored_days.org_id
                and days.queue_id = stored_days.queue_id
                and days.media_type = stored_days.media_type
                and days.report_date = stored_days.report_date
        where
            stored_days.org_id is null
            -- sums rebuilt by this build or by one that did not finish: the last successful build saw the rest
            or days.built_at > {{ last_successful_build_started_at() }}
            or stored_days.target_pct is distinct from day_targets.target_pct
            or stored_days.queue_name is distinct from queues.queue_name
            or stored_days.is_deleted is distinct from queues.is_deleted

    ),

{%- else %}

    days_to_compare as (

        select * from days

    ),

{%- endif %}

-- each bucket is judged by its day's target and a
-- bucket without SL (NULL) never counts
days_targeted as (

    select
        days_to_compare.*,
        day_targets.target_pct,
        {{ count_below('days_to_compare.bucket_service_level_pcts', 'day_targets.target_pct') }}
            as intervals_below_target
    from days_to_compare
    inner join day_targets
        on
            days_to_compare.org_id = day_targets.org_id
            and days_to_compare.queue_id = day_targets.queue_id
            and days_to_compare.media_type = day_targets.media_type
            and days_to_compare.report_date = day_targets.report_date

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
