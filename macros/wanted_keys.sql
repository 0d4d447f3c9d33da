{#- The keys fct_queue_sla_daily must hold: the report period's days (int_queue_day_targets_resolved holds
    exactly those) of the queues the mart keeps (var include_deleted_queues). Its post-hook deletes the rest. -#}
{% macro wanted_daily_keys_sql() -%}
    select
        day_targets.org_id,
        day_targets.queue_id,
        day_targets.media_type,
        day_targets.report_date
    from {{ ref('int_queue_day_targets_resolved') }} as day_targets
    inner join {{ ref('dim_queues') }} as queues
        on
            day_targets.org_id = queues.org_id
            and day_targets.queue_id = queues.queue_id
    where {{ 'true' if include_deleted_queues() else 'not queues.is_deleted' }}
{%- endmacro %}
