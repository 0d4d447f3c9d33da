{#- Sums of fct_queue_sla_daily (counts, numerators and denominators are additive; so are the buckets and
    days below target). Incremental by difference, like the daily mart: only changed rows are written. -#}
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['org_id', 'queue_id', 'media_type'],
        on_schema_change='fail',
        post_hook="{{ delete_unwanted_rows(
            ['org_id', 'queue_id', 'media_type'],
            'select org_id, queue_id, media_type from ' ~ ref('fct_queue_sla_daily')
        ) }}",
    )
}}

with

days as (

    select * from {{ ref('fct_queue_sla_daily') }}

),

day_sums as (

    select * from {{ ref('int_queue_days_summed') }}

),

-- the daily mart shows ASA and AHT, not the milliseconds behind them: take those from the same days' sums
days_with_durations as (

    select
        days.*,
        day_sums.answered_ms_sum,
        day_sums.handle_ms_sum
    from days
    inner join day_sums
        on
            days.org_id = day_sums.org_id
            and days.queue_id = day_sums.queue_id
            and days.media_type = day_sums.media_type
            and days.report_date = day_sums.report_date

),

-- volume-weighted: sums of the days' sums (never a mean of daily percentages); the period's target is the
-- one in force on its last day with data, while each day is judged by its own
period_summed as (

    select
        days_with_durations.org_id,
        days_with_durations.queue_id,
        days_with_durations.media_type,
        {{ any_value('days_with_durations.queue_name') }} as queue_name,
        {{ any_value('days_with_durations.is_deleted') }} as is_deleted,
        {{ sla_sums('days_with_durations') }},
        {{ arg_max('days_with_durations.target_pct', 'days_with_durations.report_date') }} as target_pct,
        cast(sum(days_with_durations.intervals_below_target) as bigint) as intervals_below_target,
        -- count_if over only NULLs (every day without SL) is NULL in DuckDB: none of those days missed
        coalesce({{ count_if('not days_with_durations.target_met') }}, 0) as days_below_target
    from days_with_durations
    group by
        days_with_durations.org_id,
        days_with_durations.queue_id,
        days_with_durations.media_type

),

wanted as (

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
    from period_summed

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
