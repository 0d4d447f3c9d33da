{#- A folder's `+schema` is used as the schema name itself (dbt would prefix it with `main_`): the marts
    build into the private schema `genesys_build`, and only macros/build_state.sql publishes them in `main`
    (README "Query and export": read safety). Models without `+schema` stay in the target schema. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {{ (custom_schema_name or target.schema) | trim }}
{%- endmacro %}
