{#- Fails for every org x queue x media whose sums of `columns` in the model differ from the sums of the same
    columns over its buckets in fct_queue_intervals within the report period (and the deleted-queue rule), or
    whose summed `bucket_count_column` differs from its number of buckets with an SL denominator.
    On a full build (every bucket row written by this build) the sums come from the buckets themselves. On an
    incremental build they come from int_queue_days_summed (one row per day, the same sums; a bucket has an
    SL exactly when its denominator is above 0): its days were each reconciled with their buckets by
    assert_daily_sums_reconcile_with_intervals when they were written, so this proves the same without
    rescanning every bucket. -#}
{% test sums_reconcile_with_intervals(model, columns, bucket_count_column) %}
    {%- set model_sums = [] %}
    {%- set bucket_sums = [] %}
    {%- set mismatches = [] %}
    {#- both inputs referenced at parse time, whichever branch a build takes -#}
    {%- set days_relation = ref('int_queue_days_summed') %}
    {%- for column in columns %}
        {%- do model_sums.append('sum(' ~ column ~ ') as ' ~ column) %}
        {%- do bucket_sums.append('sum(intervals.' ~ column ~ ') as ' ~ column) %}
        {%- do mismatches.append('m.' ~ column ~ ' is distinct from b.' ~ column) %}
    {%- endfor %}

    with

    model_sums as (
        select
            org_id,
            queue_id,
            media_type,
            {{ model_sums | join(', ') }},
            sum({{ bucket_count_column }}) as buckets_with_volume
        from {{ model }}
        group by org_id, queue_id, media_type
    ),

    bucket_sums as (
    {%- if not bucket_model_rebuilt_whole() %}
        select
            days.org_id,
            days.queue_id,
            days.media_type,
            {%- for column in columns %}
                sum(days.{{ column }}) as {{ column }},
            {%- endfor %}
            sum({{ list_length('days.bucket_service_level_pcts') }}) as buckets_with_volume
        from {{ days_relation }} as days
        inner join {{ ref('dim_queues') }} as queues
            on days.org_id = queues.org_id and days.queue_id = queues.queue_id
        where
            {{ report_date_filter('days.report_date') }}
            and ({{ include_deleted_queues() }} or not queues.is_deleted)
        group by days.org_id, days.queue_id, days.media_type
        {%- else %}
        select
            intervals.org_id,
            intervals.queue_id,
            intervals.media_type,
            {{ bucket_sums | join(', ') }},
            {{ count_if('intervals.sl_denominator > 0') }} as buckets_with_volume
        from {{ ref('fct_queue_intervals') }} as intervals
        inner join {{ ref('dim_queues') }} as queues
            on intervals.org_id = queues.org_id and intervals.queue_id = queues.queue_id
        where
            {{ report_date_filter('intervals.report_date') }}
            and ({{ include_deleted_queues() }} or not queues.is_deleted)
        group by intervals.org_id, intervals.queue_id, intervals.media_type
        {%- endif %}
    )

    select
        coalesce(m.org_id, b.org_id) as org_id,
        coalesce(m.queue_id, b.queue_id) as queue_id,
        coalesce(m.media_type, b.media_type) as media_type
    from model_sums as m
    full outer join bucket_sums as b
        on m.org_id = b.org_id and m.queue_id = b.queue_id and m.media_type = b.media_type
    where
        m.org_id is null
        or b.org_id is null
        or m.buckets_with_volume is distinct from b.buckets_with_volume
        or {{ mismatches | join(' or ') }}

{% endtest %}
