-- int_queue_intervals_localized holds exactly the loaded buckets: none missing, none left over from an older
-- load (e.g. :30 buckets after a reload at PT1H), and each with the loaded counts. Returns the mismatches.
-- Buckets are compared where the latest build wrote them (every bucket after a full build; after an
-- incremental one, those it rebuilt or removed), and the live row count is compared whole.
with

loaded as (

    select * from {{ ref('stg_genesys__queue_intervals') }}

),

stored as (

    select * from {{ ref('int_queue_intervals_localized') }}

),

rebuilt as (

    select *
    from stored
    where built_at = (select max(latest.built_at) from stored as latest)

),

-- raw rows of the rebuilt keys, plus raw rows newer than anything stored (which the build should have taken)
loaded_in_scope as (

    select loaded.*
    from loaded
    where
        exists (
            select 1
            from rebuilt
            where
                rebuilt.org_id = loaded.org_id
                and rebuilt.queue_id = loaded.queue_id
                and rebuilt.media_type = loaded.media_type
                and rebuilt.interval_start = loaded.interval_start
        )
        or loaded.loaded_at > (select max(stored.loaded_at) from stored)

),

compared as (

    select
        coalesce(loaded_in_scope.org_id, rebuilt.org_id) as org_id,
        coalesce(loaded_in_scope.queue_id, rebuilt.queue_id) as queue_id,
        coalesce(loaded_in_scope.media_type, rebuilt.media_type) as media_type,
        coalesce(loaded_in_scope.interval_start, rebuilt.interval_start) as interval_start,
        loaded_in_scope.offered_count as loaded_offered,
        rebuilt.offered as stored_offered,
        rebuilt.is_removed
    from loaded_in_scope
    full outer join rebuilt
        on
            loaded_in_scope.org_id = rebuilt.org_id
            and loaded_in_scope.queue_id = rebuilt.queue_id
            and loaded_in_scope.media_type = rebuilt.media_type
            and loaded_in_scope.interval_start = rebuilt.interval_start
    where
        -- loaded but not taken; a tombstone of a loaded bucket; a live bucket not loaded or with other counts
        rebuilt.queue_id is null
        or (rebuilt.is_removed and loaded_in_scope.queue_id is not null)
        or (
            not rebuilt.is_removed
            and (
                loaded_in_scope.queue_id is null
                or loaded_in_scope.offered_count is distinct from rebuilt.offered
                or loaded_in_scope.answered_count is distinct from rebuilt.answered
                or loaded_in_scope.abandoned_count is distinct from rebuilt.abandoned
                or loaded_in_scope.interval_end is distinct from rebuilt.interval_end
                or loaded_in_scope.loaded_at is distinct from rebuilt.loaded_at
            )
        )
),

-- whole-table: as many live buckets as loaded ones (a kept bucket the loader removed, or a loaded one never
-- taken, shows here even outside the rebuilt rows)
counted as (

    select
        null as org_id,
        null as queue_id,
        null as media_type,
        null as interval_start,
        (select count(*) from loaded) as loaded_offered,
        (
            select count(*) from stored
            where not stored.is_removed
        ) as stored_offered,
        null as is_removed
    where (
        select count(*) from loaded) <> (
        select count(*) from stored
        where not stored.is_removed
    )

)

select * from compared
union all
select * from counted
