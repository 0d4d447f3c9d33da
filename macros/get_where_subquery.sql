{#- dbt's own hook for the `where` config of data tests, overridden for two keywords that scope the tests of
    bucket-grain models (millions of rows) to what a build changed:
    - `rows_built_last`: the rows the latest build wrote (built_at = its newest value);
    - `rows_loaded_since_last_build`: raw buckets loaded after the newest one int_queue_intervals_localized
      holds, i.e. the ones this build is about to process (all of them on --full-refresh or when that model
      does not exist yet).
    A full build writes (and processes) every row, so there each test still covers the whole table; an
    incremental build checks what it rebuilt instead of rescanning millions of rows it kept. Any other `where`
    is applied as dbt does. The boundary is looked up when the test runs (after its model was built) and written
    into the filter as a constant: DuckDB then skips the row groups whose min/max rule them out (the rows a
    build wrote are appended together), where a subquery in the filter makes it read every row group. -#}
{% macro get_where_subquery(relation) -%}
    {%- set where = config.get('where') -%}
    {%- set condition = where -%}
    {%- if where == 'rows_built_last' -%}
        {%- set latest = max_timestamp_literal('built_at', relation) -%}
        {%- set condition = 'built_at = ' ~ latest if latest else 'false' -%}
    {%- elif where == 'rows_loaded_since_last_build' -%}
        {%- set built = adapter.get_relation(
            database=relation.database, schema=relation.schema, identifier='int_queue_intervals_localized'
        ) if execute else none -%}
        {%- set watermark = none if built is none or flags.FULL_REFRESH
            else max_timestamp_literal('loaded_at', built) -%}
        {%- set condition = 'loaded_at > ' ~ watermark if watermark else none -%}
    {%- endif -%}
    {%- if condition -%}
        {{ return('(select * from ' ~ relation ~ ' where ' ~ condition ~ ') dbt_subquery') }}
    {%- endif -%}
    {{ return(relation) }}
{%- endmacro %}
