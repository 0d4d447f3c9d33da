with

days as (

    select * from {{ ref('int_queue_days_summed') }}

),

configured_targets as (

    select * from {{ ref('stg_genesys__queue_service_level_targets') }}

),

target_overrides as (

    select * from {{ ref('queue_sla_targets') }}

),

queues as (

    select * from {{ ref('stg_genesys__queues') }}

),

-- the days of the report period; the API target of a day is the one reported with its last bucket
queue_days as (

    select
        org_id,
        queue_id,
        media_type,
        report_date,
        api_target_pct,
        -- the instant the local day ends (next local midnight, DST-correct via ICU)
        {{ at_time_zone(report_timezone(), 'cast(report_date + 1 as timestamp)') }} as day_end_at
    from days
    where {{ report_date_filter('report_date') }}

),

-- the configured target (scd2 history) in force at the end of each local day (a ranked CTE, then the
-- first of each rank: PostgreSQL has no QUALIFY)
configured_ranked as (

    select
        queue_days.org_id,
        queue_days.queue_id,
        queue_days.media_type,
        queue_days.report_date,
        configured_targets.target_pct,
        row_number() over (
            partition by
                queue_days.org_id,
                queue_days.queue_id,
                queue_days.media_type,
                queue_days.report_date
            order by configured_targets.valid_from_at desc
        ) as version_rank
    from queue_days
    inner join configured_targets
        on
            queue_days.org_id = configured_targets.org_id
            and queue_days.queue_id = configured_targets.queue_id
            and queue_days.media_type = configured_targets.media_type
            and queue_days.day_end_at >= configured_targets.valid_from_at
            and queue_days.day_end_at < coalesce(configured_targets.valid_to_at, cast('infinity' as timestamptz))

),

configured_per_day as (

    select
        org_id,
        queue_id,
        media_type,
        report_date,
        target_pct
    from configured_ranked
    where version_rank = 1

),

-- a queue never listed is named by its id, as in dim_queues
queue_media as (

    select distinct
        queue_days.org_id,
        queue_days.queue_id,
        queue_days.media_type,
        coalesce(queues.queue_name, queue_days.queue_id) as queue_name
    from queue_days
    left join queues
        on
            queue_days.org_id = queues.org_id
            and queue_days.queue_id = queues.queue_id

),

-- seed rows match by queue_id, else (no id in the row) by queue_name; an empty media_type matches every
-- media. The most specific match wins: id before name, then exact media before all media.
override_ranked as (

    select
        queue_media.org_id,
        queue_media.queue_id,
        queue_media.media_type,
        target_overrides.target_pct,
        row_number() over (
            partition by
                queue_media.org_id,
                queue_media.queue_id,
                queue_media.media_type
            order by
                nullif(trim(target_overrides.queue_id), '') is null,
                nullif(trim(target_overrides.media_type), '') is null
        ) as match_rank
    from queue_media
    inner join target_overrides
        on
            (
                trim(target_overrides.queue_id) = queue_media.queue_id
                or (
                    nullif(trim(target_overrides.queue_id), '') is null
                    and trim(target_overrides.queue_name) = queue_media.queue_name
                )
            )
            and (
                lower(trim(target_overrides.media_type)) = queue_media.media_type
                or nullif(trim(target_overrides.media_type), '') is null
            )

),

override_per_queue_media as (

    select
        org_id,
        queue_id,
        media_type,
        target_pct
    from override_ranked
    where match_rank = 1

),

resolved as (

    select
        queue_days.org_id,
        queue_days.queue_id,
        queue_days.media_type,
        queue_days.report_date,
        override_per_queue_media.target_pct as override_target_pct,
        configured_per_day.target_pct as configured_target_pct,
        queue_days.api_target_pct,
        coalesce(
            override_per_queue_media.target_pct,
            configured_per_day.target_pct,
            queue_days.api_target_pct,
            {{ default_target_pct() }}
        ) as target_pct,
        case
            when override_per_queue_media.target_pct is not null then 'seed'
            when configured_per_day.target_pct is not null then 'queue_config'
            when queue_days.api_target_pct is not null then 'api'
            else 'default'
        end as target_source
    from queue_days
    left join override_per_queue_media
        on
            queue_days.org_id = override_per_queue_media.org_id
            and queue_days.queue_id = override_per_queue_media.queue_id
            and queue_days.media_type = override_per_queue_media.media_type
    left join configured_per_day
        on
            queue_days.org_id = configured_per_day.org_id
            and queue_days.queue_id = configured_per_day.queue_id
            and queue_days.media_type = configured_per_day.media_type
            and queue_days.report_date = configured_per_day.report_date

)

select * from resolved
