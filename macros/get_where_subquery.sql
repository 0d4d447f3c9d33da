{#- dbt's own hook for the `where` config of data tests, overridden for two keywords that scope the tests of
    bucket-grain models (millions of rows) to what a build changed:
    - `rows_built_last`: the rows the latest build wrote (built_at = its newest value);
    - `rows_loaded_since_last_build`: raw buckets loaded after the newest one int_queue_intervals_localized
      holds, i.e. the ones this build is about to process (all of them when that model does not exist yet).
    A full build writes (and processes) every row, so there each test still covers the whole table; an
    incremental build checks what it rebuilt instead of rescanning millions of rows it kept. Any other `where`
    is applied as dbt does. -#}
{% macro get_where_subquery(relation) -%}
    {%- set where = config.get('where') -%}
    {%- if where == 'rows_built_last' -%}
        (
            select * from {{ relation }}
            where built_at = (select max(latest_build.built_at) from {{ relation }} as latest_build)
        ) dbt_subquery
    {%- elif where == 'rows_loaded_since_last_build' -%}
        {%- set built = adapter.get_relation(
            database=relation.database, schema=relation.schema, identifier='int_queue_intervals_localized'
        ) if execute else none -%}
        {%- if built is none or flags.FULL_REFRESH -%}
            {{ relation }}
        {%- else -%}
            (
                select * from {{ relation }}
                where loaded_at > (
                    select coalesce(max(built.loaded_at), cast('-infinity' as timestamptz))
                    from {{ built }} as built
                )
            ) dbt_subquery
        {%- endif -%}
    {%- elif where -%}
        (select * from {{ relation }} where {{ where }}) dbt_subquery
    {%- else -%}
        {{ relation }}
    {%- endif -%}
{%- endmacro %}
