{#- Service level in percent, 100 x sl_numerator / sl_denominator, NULL without denominator: of one bucket or
    of summed counts (`relation_name`: the alias of the rows, none for unqualified columns). -#}
{% macro service_level_pct_sql(relation_name=none) -%}
    {%- set prefix = relation_name ~ '.' if relation_name else '' -%}
    100 * cast({{ prefix }}sl_numerator as {{ type_double() }}) / nullif({{ prefix }}sl_denominator, 0)
{%- endmacro %}


{#- The ratio columns of the daily and period marts (design.md "Marts"), from summed counts in scope:
    offered, answered, abandoned, handled, sl_numerator, sl_denominator, answered_ms_sum, handle_ms_sum,
    target_pct. Ratios of sums, never means of ratios; NULL when the denominator is 0. -#}
{% macro sla_ratios() %}
    {{ service_level_pct_sql() }} as service_level_pct,
    target_pct,
    {{ service_level_pct_sql() }} >= target_pct as target_met,
    100 * cast(answered as {{ type_double() }}) / nullif(offered, 0) as answer_rate_pct,
    100 * cast(abandoned as {{ type_double() }}) / nullif(offered, 0) as abandon_rate_pct,
    cast(answered_ms_sum as {{ type_double() }}) / nullif(answered, 0) / 1000 as asa_seconds,
    cast(handle_ms_sum as {{ type_double() }}) / nullif(handled, 0) / 1000 as aht_seconds
{%- endmacro %}


{#- Sums of the bucket counts of fct_queue_intervals, cast back from DuckDB's hugeint sums. -#}
{% macro sla_sums(relation_name) %}
    cast(sum({{ relation_name }}.offered) as bigint) as offered,
    cast(sum({{ relation_name }}.answered) as bigint) as answered,
    cast(sum({{ relation_name }}.abandoned) as bigint) as abandoned,
    cast(sum({{ relation_name }}.short_abandoned) as bigint) as short_abandoned,
    cast(sum({{ relation_name }}.flow_outs) as bigint) as flow_outs,
    cast(sum({{ relation_name }}.handled) as bigint) as handled,
    cast(sum({{ relation_name }}.sl_numerator) as bigint) as sl_numerator,
    cast(sum({{ relation_name }}.sl_denominator) as bigint) as sl_denominator,
    cast(sum({{ relation_name }}.answered_ms_sum) as bigint) as answered_ms_sum,
    cast(sum({{ relation_name }}.handle_ms_sum) as bigint) as handle_ms_sum
{%- endmacro %}
