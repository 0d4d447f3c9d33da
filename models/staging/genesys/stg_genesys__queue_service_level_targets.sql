with

source as (

    select * from {{ source('genesys', 'queue_service_level_targets') }}

),

renamed as (

    select
        -- ids
        org_id,
        queue_id,
        media_type,

        -- configured service level ("target_pct % answered within threshold_ms")
        -- rounded: 0.55 * 100 is 55.00000000000001 in floating point, which would fail an SL of exactly 55 %
        {{ round_double('target_ratio * 100', 6) }} as target_pct,
        threshold_ms as sl_threshold_ms,

        -- scd2 validity (UTC load times); a NULL valid_to_at is the current version
        _dlt_valid_from as valid_from_at,
        _dlt_valid_to as valid_to_at,
        _dlt_id as target_version_id

    from source

)

select * from renamed
