-- fct_queue_intervals holds exactly the loaded buckets: none missing, none left over from an older load
-- (e.g. :30 buckets after a reload at PT1H), and each with the loaded counts. Returns the mismatches.
with

loaded as (

    select * from {{ ref('stg_genesys__queue_intervals') }}

),

stored as (

    select * from {{ ref('fct_queue_intervals') }}

),

compared as (

    select
        coalesce(loaded.org_id, stored.org_id) as org_id,
        coalesce(loaded.queue_id, stored.queue_id) as queue_id,
        coalesce(loaded.media_type, stored.media_type) as media_type,
        coalesce(loaded.interval_start, stored.interval_start) as interval_start,
        loaded.offered_count as loaded_offered,
        stored.offered as stored_offered
    from loaded
    full outer join stored
        on
            loaded.org_id = stored.org_id
            and loaded.queue_id = stored.queue_id
            and loaded.media_type = stored.media_type
            and loaded.interval_start = stored.interval_start
    where
        loaded.queue_id is null
        or stored.queue_id is null
        or loaded.offered_count is distinct from stored.offered
        or loaded.answered_count is distinct from stored.answered
        or loaded.interval_end is distinct from stored.interval_end

)

select * from compared
