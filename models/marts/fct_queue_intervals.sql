{#- A view: the buckets live once, in the incremental int_queue_intervals_localized; this is its public face
    (the columns CSV consumers know), without the tombstones of removed buckets and the build metadata.
    The reference is unqualified: DuckDB resolves it in the view's own schema, so the view survives a copied
    or renamed database file (a qualified one names the file's catalog) and a schema swapped in whole. -#}
{{ config(materialized='view') }}

with

intervals as (

    select * from {{ view_ref('int_queue_intervals_localized') }}

),

final as (

    select
        org_id,
        queue_id,
        media_type,
        interval_start,
        interval_end,
        -- the build's vars: the table was built under them (its report_settings_hash), and readers see this
        -- view only after a successful build (macros/build_state.sql)
        '{{ report_timezone() }}' as report_timezone,
        report_date,
        {{ hour_of_minute('report_minute_of_day') }} as report_hour,
        report_minute_of_day,
        offered,
        answered,
        abandoned,
        short_abandoned,
        flow_outs,
        handled,
        waited,
        over_sla,
        answered_ms_sum,
        abandoned_ms_sum,
        handle_ms_sum,
        wait_ms_sum,
        '{{ sl_formula() }}' as sl_formula,
        sl_numerator,
        sl_denominator,
        {{ service_level_pct_sql() }} as service_level_pct,
        api_target_pct,
        loaded_at
    from intervals
    where not is_removed

)

select * from final
