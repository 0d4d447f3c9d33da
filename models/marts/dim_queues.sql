with

queues as (

    select * from {{ ref('stg_genesys__queues') }}

),

intervals as (

    select * from {{ ref('stg_genesys__queue_intervals') }}

),

-- the loader adds a row for every queue id seen in analytics; ids it missed still get a row here, so
-- every bucket has its queue in this dimension
queue_ids_in_intervals as (

    select distinct
        org_id,
        queue_id
    from intervals

),

all_queue_ids as (

    select
        org_id,
        queue_id
    from queues

    union

    select
        org_id,
        queue_id
    from queue_ids_in_intervals

),

latest_listing_per_org as (

    select
        org_id,
        max(last_seen_at) as latest_listing_at
    from queues
    group by org_id

),

final as (

    select
        all_queue_ids.org_id,
        all_queue_ids.queue_id,
        -- a deleted queue keeps its last known name; a queue never listed shows its id (as Genesys does)
        coalesce(queues.queue_name, all_queue_ids.queue_id) as queue_name,
        queues.division_name,
        -- absent from the latest listing of its org (or never listed) = deleted in Genesys
        coalesce(
            queues.last_seen_at is null
            or queues.last_seen_at < latest_listing_per_org.latest_listing_at,
            true
        ) as is_deleted
    from all_queue_ids
    left join queues
        on
            all_queue_ids.org_id = queues.org_id
            and all_queue_ids.queue_id = queues.queue_id
    left join latest_listing_per_org
        on all_queue_ids.org_id = latest_listing_per_org.org_id

)

select * from final
