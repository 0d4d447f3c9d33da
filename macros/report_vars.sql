{#- Validated access to the report vars of dbt_project.yml; a bad value fails the build with one clear line. -#}

{% macro sl_formula() %}
    {%- set valid = ['genesys', 'exclude_short_abandons', 'include_flow_outs'] %}
    {%- set value = var('sl_formula') | string | trim %}
    {%- if value not in valid %}
        {{ exceptions.raise_compiler_error(
            "var sl_formula '" ~ value ~ "' is not valid; use one of: " ~ valid | join(', ')
        ) }}
    {%- endif %}
    {{- return(value) }}
{% endmacro %}


{#- Numerator and denominator of a bucket's service level under var sl_formula (Genesys SL% definition,
    genesys-api.md section 7). Counts are the staging names. -#}
{% macro sl_numerator_sql() %}
    {%- if sl_formula() == 'genesys' -%}
        sl_numerator
    {%- else -%}
        answered_count - over_sla_count
    {%- endif -%}
{% endmacro %}


{% macro sl_denominator_sql() %}
    {%- set formula = sl_formula() %}
    {%- if formula == 'genesys' -%}
        sl_denominator
    {%- elif formula == 'exclude_short_abandons' -%}
        answered_count + abandoned_count - short_abandoned_count
    {%- else -%}
        answered_count + abandoned_count + flow_out_count
    {%- endif -%}
{% endmacro %}


{% macro report_timezone() %}
    {%- set value = var('report_timezone') | string | trim %}
    {%- if value == '' or "'" in value %}
        {{ exceptions.raise_compiler_error(
            "var report_timezone '" ~ value ~ "' is not a time zone; use an IANA name such as UTC or Europe/London"
        ) }}
    {%- endif %}
    {{- return(value) }}
{% endmacro %}


{#- The report settings a row of an incremental model was built under (vars report_timezone and sl_formula)
    as one 64-bit hash: a constant integer column costs a fraction of two text columns on millions of rows. -#}
{% macro report_settings_hash() -%}
    {{ row_hash(["'" ~ report_timezone() ~ "'", "'" ~ sl_formula() ~ "'"]) }}
{%- endmacro %}


{% macro include_deleted_queues() %}
    {%- set value = var('include_deleted_queues') %}
    {%- if value is sameas true or (value | string | lower) in ['true', '1', 'yes'] %}
        {{- return(true) }}
    {%- elif value is sameas false or (value | string | lower) in ['false', '0', 'no'] %}
        {{- return(false) }}
    {%- endif %}
    {{ exceptions.raise_compiler_error(
        "var include_deleted_queues '" ~ value ~ "' is not valid; use true or false"
    ) }}
{% endmacro %}


{% macro default_target_pct() %}
    {%- set value = var('default_target_pct') | float(-1) %}
    {%- if value <= 0 or value > 100 %}
        {{ exceptions.raise_compiler_error(
            "var default_target_pct '" ~ var('default_target_pct') ~ "' is not valid; use a number in (0, 100]"
        ) }}
    {%- endif %}
    {{- return(value) }}
{% endmacro %}


{#- Var report_start or report_end as trimmed text, '' when open; a value that is not YYYY-MM-DD stops the
    build with the var's name. -#}
{% macro report_bound(name) -%}
    {%- set value = var(name) -%}
    {%- set text = value | string | trim if value is not none else '' -%}
    {%- if text != '' and not modules.re.fullmatch('[0-9]{4}-[0-9]{2}-[0-9]{2}', text) -%}
        {{ exceptions.raise_compiler_error("var " ~ name ~ " '" ~ value ~ "' is not a date; use YYYY-MM-DD") }}
    {%- endif -%}
    {{- return(text) -}}
{%- endmacro %}


{#- SQL condition keeping local dates within the inclusive vars report_start .. report_end (either may be null). -#}
{% macro report_date_filter(column) %}
    {%- set start = report_bound('report_start') %}
    {%- set end = report_bound('report_end') %}
    true
    {%- if start %}
        and {{ column }} >= date '{{ start }}'
    {%- endif %}
    {%- if end %}
        and {{ column }} <= date '{{ end }}'
    {%- endif %}
{% endmacro %}
