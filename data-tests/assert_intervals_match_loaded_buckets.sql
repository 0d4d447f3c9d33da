-- int_queue_intervals_localized holds exactly the loaded buckets: none missing, none left over from an older
-- load (e.g. :30 buckets after a reload at PT1H), and each with the loaded counts. Returns the mismatches.
-- Scope: the buckets the latest build processed (every bucket after a full build): raw rows loaded after what
-- the older stored rows had seen, against the live rows the build wrote. Compared per org, queue and media by
-- count and a fingerprint (sum of row hashes): a streaming aggregate, where a bucket-by-bucket join of
-- millions of rows would cost more than the build itself. Tombstones must not be loaded, and the live row
-- count must equal the loaded one over the whole table.
with

-- not materialized: DuckDB would copy every bucket into a temporary result to read this CTE twice
loaded as not materialized (

    select * from {{ ref('stg_genesys__queue_intervals') }}

),

stored as not materialized (

    select * from {{ ref('int_queue_intervals_localized') }}

),

{#- the latest build, and the newest load the rows kept from older builds had seen (the latest build processed
    everything loaded after it), as constants: DuckDB then reads only the row groups of those rows -#}
{%- set stored_relation = ref('int_queue_intervals_localized') %}
{%- set latest_build = max_timestamp_literal('built_at', stored_relation) or 'cast(null as timestamptz)' %}
{%- set kept_watermark = max_timestamp_literal('loaded_at', stored_relation, 'built_at < ' ~ latest_build)
    or "cast('-infinity' as timestamptz)" %}

loaded_fingerprints as (

    select
        loaded.org_id,
        loaded.queue_id,
        loaded.media_type,
        count(*) as n_buckets,
        sum(
            {{ row_hash([
                'loaded.interval_start', 'loaded.interval_end', 'loaded.offered_count', 'loaded.answered_count',
                'loaded.abandoned_count', 'loaded.handled_count', 'loaded.loaded_at'
            ]) }}
        ) as fingerprint
    from loaded
    where loaded.loaded_at > {{ kept_watermark }}
    group by
        loaded.org_id,
        loaded.queue_id,
        loaded.media_type

),

rebuilt_fingerprints as (

    select
        stored.org_id,
        stored.queue_id,
        stored.media_type,
        count(*) as n_buckets,
        sum(
            {{ row_hash([
                'stored.interval_start', 'stored.interval_end', 'stored.offered', 'stored.answered',
                'stored.abandoned', 'stored.handled', 'stored.loaded_at'
            ]) }}
        ) as fingerprint
    from stored
    where
        stored.built_at = {{ latest_build }}
        and not stored.is_removed
    group by
        stored.org_id,
        stored.queue_id,
        stored.media_type

),

fingerprints_compared as (

    select
        coalesce(loaded_fingerprints.org_id, rebuilt_fingerprints.org_id) as org_id,
        coalesce(loaded_fingerprints.queue_id, rebuilt_fingerprints.queue_id) as queue_id,
        coalesce(loaded_fingerprints.media_type, rebuilt_fingerprints.media_type) as media_type,
        'buckets processed by the latest build differ from the loaded ones' as problem,
        loaded_fingerprints.n_buckets as loaded_buckets,
        rebuilt_fingerprints.n_buckets as stored_buckets
    from loaded_fingerprints
    full outer join rebuilt_fingerprints
        on
            loaded_fingerprints.org_id = rebuilt_fingerprints.org_id
            and loaded_fingerprints.queue_id = rebuilt_fingerprints.queue_id
            and loaded_fingerprints.media_type = rebuilt_fingerprints.media_type
    where
        loaded_fingerprints.n_buckets is distinct from rebuilt_fingerprints.n_buckets
        or loaded_fingerprints.fingerprint is distinct from rebuilt_fingerprints.fingerprint

),

tombstones as (

    select *
    from stored
    where is_removed

),

-- few tombstones, so this join is built on them
tombstones_still_loaded as (

    select
        tombstones.org_id,
        tombstones.queue_id,
        tombstones.media_type,
        'a removed bucket is loaded' as problem,
        1 as loaded_buckets,
        0 as stored_buckets
    from tombstones
    inner join loaded
        on
            tombstones.org_id = loaded.org_id
            and tombstones.queue_id = loaded.queue_id
            and tombstones.media_type = loaded.media_type
            and tombstones.interval_start = loaded.interval_start

),

loaded_count as (

    select count(*) as n_buckets from loaded

),

live_count as (

    select count(*) as n_buckets
    from stored
    where not is_removed

),

-- whole table: as many live buckets as loaded ones (a kept bucket the loader removed shows here)
counted as (

    select
        null as org_id,
        null as queue_id,
        null as media_type,
        'live buckets and loaded buckets differ in number' as problem,
        loaded_count.n_buckets as loaded_buckets,
        live_count.n_buckets as stored_buckets
    from loaded_count
    cross join live_count
    where loaded_count.n_buckets <> live_count.n_buckets

)

select * from fingerprints_compared
union all
select * from tombstones_still_loaded
union all
select * from counted
