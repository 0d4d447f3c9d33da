with

source as (

    select * from {{ source('genesys', 'queue_intervals') }}

),

renamed as (

    select
        -- ids
        org_id,
        queue_id,
        media_type,

        -- bucket (UTC, start inclusive, end exclusive)
        interval_start,
        interval_end,

        -- counts: the API omits a metric with nothing to report, so absent means zero
        coalesce(offered_count, 0) as offered_count,
        coalesce(answered_count, 0) as answered_count,
        coalesce(abandoned_count, 0) as abandoned_count,
        coalesce(short_abandoned_count, 0) as short_abandoned_count,
        coalesce(flow_out_count, 0) as flow_out_count,
        coalesce(handled_count, 0) as handled_count,
        coalesce(wait_count, 0) as wait_count,
        coalesce(over_sla_count, 0) as over_sla_count,

        -- durations (milliseconds)
        coalesce(answered_ms_sum, 0) as answered_ms_sum,
        coalesce(abandoned_ms_sum, 0) as abandoned_ms_sum,
        coalesce(handle_ms_sum, 0) as handle_ms_sum,
        coalesce(wait_ms_sum, 0) as wait_ms_sum,

        -- service level as the API computed it (oServiceLevel); no SL in the bucket means 0 / 0
        coalesce(sl_numerator, 0) as sl_numerator,
        coalesce(sl_denominator, 0) as sl_denominator,
        -- the queue's target reported with the bucket stays NULL when absent: it is not a count
        -- rounded as in stg_genesys__queue_service_level_targets (0.55 * 100 is not exactly 55)
        {{ round_double('sl_target_ratio * 100', 6) }} as sl_target_pct,

        -- load metadata
        loaded_at

    from source

)

select * from renamed
