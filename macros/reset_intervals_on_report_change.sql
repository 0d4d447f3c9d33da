{#- Pre-hook of the incremental fct_queue_intervals: its local columns (report_date, report_hour) and SL
    numerator/denominator depend on vars report_timezone and sl_formula, so when any stored row was built
    with other values, empty the table; the model then reprocesses every bucket (its watermark is gone).
    Cheaper than delete+insert of every key, and never leaves dates cut in an older zone. -#}
{% macro reset_intervals_on_report_change() %}
    {%- if is_incremental() %}
        delete from {{ this }}
        where exists (
            select 1
            from {{ this }}
            where report_timezone is distinct from '{{ report_timezone() }}'
                or sl_formula is distinct from '{{ sl_formula() }}'
        )
    {%- endif %}
{% endmacro %}

{#- Second pre-hook of fct_queue_intervals: drop stored buckets whose key is no longer loaded. A loader
    --full-refresh (e.g. PT30M -> PT1H) replaces the raw table, and the incremental merge only replaces keys
    that come back: the old :30 buckets, or buckets outside a shorter reload, would otherwise be counted
    twice or kept after the loader removed them. An anti-join on the key, cheap next to a rebuild. -#}
{% macro delete_intervals_gone_from_raw() %}
    {%- if is_incremental() %}
        delete from {{ this }} as stored
        where not exists (
            select 1
            from {{ ref('stg_genesys__queue_intervals') }} as loaded
            where
                loaded.org_id = stored.org_id
                and loaded.queue_id = stored.queue_id
                and loaded.media_type = stored.media_type
                and loaded.interval_start = stored.interval_start
        )
    {%- endif %}
{% endmacro %}
