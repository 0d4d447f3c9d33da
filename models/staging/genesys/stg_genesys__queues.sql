with

source as (

    select * from {{ source('genesys', 'queues') }}

),

renamed as (

    select
        -- ids
        org_id,
        queue_id,
        division_id,

        -- text
        name as queue_name,
        division_name,

        -- timestamps (UTC)
        first_seen_at,
        last_seen_at

    from source

)

select * from renamed
