{#- Two PostgreSQL overrides of dbt's own macros, so unit tests can give and expect list columns
    (bucket_service_level_pcts) on both engines with the same DuckDB-style fixtures ("[90.0, 100.0]"). -#}

{#- dbt-postgres's version with one change: an array column's type is its element type plus [] (e.g.
    double precision[]) instead of information_schema's bare "ARRAY", which no cast accepts. -#}
{% macro postgres__get_columns_in_relation(relation) -%}
    {% call statement('get_columns_in_relation', fetch_result=True) %}
        select
            column_name,
            case
                when data_type = 'ARRAY' then cast(cast(udt_name as regtype) as text)
                else data_type
            end as data_type,
            character_maximum_length,
            numeric_precision,
            numeric_scale
        from {{ relation.information_schema('columns') }}
        where
            table_name = '{{ relation.identifier }}'
            {% if relation.schema %}
                and table_schema = '{{ relation.schema }}'
            {% endif %}
        order by ordinal_position
    {% endcall %}
    {% set table = load_result('get_columns_in_relation').table %}
    {{ return(sql_convert_columns_in_relation(table)) }}
{%- endmacro %}

{#- A fixture's list literal '[a, b]' is PostgreSQL's array literal '{a, b}'; every other value casts as dbt's. -#}
{% macro postgres__safe_cast(field, type) -%}
    {%- set text = field | string | trim -%}
    {%- if (type | trim).endswith('[]') and text.startswith("'[") and text.endswith("]'") -%}
        cast('{{ "{" ~ text[2:-2] ~ "}" }}' as {{ type }})
    {%- else -%}
        cast({{ field }} as {{ type }})
    {%- endif -%}
{%- endmacro %}
