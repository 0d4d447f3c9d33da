{#- Helpers of the incremental models: the build's timestamp, and the reset when report vars change. -#}

{#- The instant this dbt invocation started, as a timestamptz literal: every row a build writes into an
    incremental intermediate model carries it in built_at, so the next model (and the tests) can tell the
    rows this build rebuilt from the ones it kept. -#}
{% macro build_started_at() -%}
    {#- run_started_at always exists in dbt; the else branch only serves SQLFluff's jinja templater -#}
    {%- if run_started_at is defined -%}
        cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f") }}+00' as timestamptz)
    {%- else -%}
        now()
    {%- endif -%}
{%- endmacro %}


{#- Pre-hook of the incremental models whose rows depend on vars report_timezone and sl_formula: when any
    stored row was built with other values, empty the table; the model then rebuilds every row (its
    watermark is gone). Cheaper than delete+insert of every key, and never leaves dates cut in an older
    zone. -#}
{% macro reset_on_report_change() %}
    {%- if is_incremental() %}
        delete from {{ this }}
        where exists ({{ _rows_of_other_report_vars() }})
    {%- endif %}
{% endmacro %}


{% macro _rows_of_other_report_vars() -%}
    select 1
    from {{ this }}
    where report_settings_hash is distinct from {{ report_settings_hash() }}
{%- endmacro %}


{#- The watermark of an incremental model that reset_on_report_change may empty: max(column) of {{ this }} as
    a timestamptz literal, or -infinity when the table is empty or about to be emptied (the model's SQL is
    rendered before its pre-hook runs, so the reset must be foreseen here). -#}
{% macro incremental_watermark(column) -%}
    {%- set reset = run_query('select exists (' ~ _rows_of_other_report_vars() ~ ')') if execute else none -%}
    {%- set latest = none if reset is none or reset.columns[0].values()[0] else max_timestamp_literal(column, this) -%}
    {{- latest or "cast('-infinity' as timestamptz)" -}}
{%- endmacro %}


{#- Post-hook of a mart reconciled by difference (fct_queue_sla_daily, fct_queue_sla_period): the model
    writes only new or changed rows, so rows whose key is no longer wanted (`wanted_keys_sql`, a select of
    the `key_columns`) are deleted here. -#}
{% macro delete_unwanted_rows(key_columns, wanted_keys_sql) %}
    {%- set matches = [] -%}
    {%- for column in key_columns -%}
        {%- do matches.append('wanted.' ~ column ~ ' = kept.' ~ column) -%}
    {%- endfor -%}
    {%- if is_incremental() %}
        delete from {{ this }} as kept
        where not exists (
            select 1
            from ({{ wanted_keys_sql }}) as wanted
            where {{ matches | join(' and ') }}
        )
    {%- endif %}
{% endmacro %}


{#- Post-hook of int_queue_days_summed: a day whose buckets were all removed left a row with bucket_count 0
    (so that delete+insert replaced the stored day); drop it. -#}
{% macro delete_empty_days() %}
    delete from {{ this }} where bucket_count = 0
{% endmacro %}


{#- max(column) over the rows of relation matching `where`, as a timestamptz literal (UTC, microseconds), or
    none when there is no such row (or at parse time, when nothing can be queried). A constant in a filter
    lets DuckDB skip the row groups whose min/max rule them out; a subquery there makes it read every one. -#}
{% macro max_timestamp_literal(column, relation, where='true') -%}
    {%- if not execute -%}{{ return(none) }}{%- endif -%}
    {%- set latest = format_timestamp(at_time_zone('UTC', 'max(' ~ column ~ ')'), '%Y-%m-%d %H:%M:%S.%f') -%}
    {%- set found = run_query('select ' ~ latest ~ ' from ' ~ relation ~ ' where ' ~ where) -%}
    {%- set value = found.columns[0].values()[0] -%}
    {{- return("cast('" ~ value ~ "+00' as timestamptz)" if value else none) -}}
{%- endmacro %}


{#- [min, max] of a date column over the rows of relation matching `where`, as two date literals; [none, none]
    when no row matches (or at parse time). -#}
{% macro date_span(column, relation, where='true') -%}
    {%- if not execute -%}{{ return([none, none]) }}{%- endif -%}
    {%- set first_text = format_timestamp('min(' ~ column ~ ')', '%Y-%m-%d') -%}
    {%- set last_text = format_timestamp('max(' ~ column ~ ')', '%Y-%m-%d') -%}
    {%- set found = run_query(
        'select ' ~ first_text ~ ', ' ~ last_text ~ ' from ' ~ relation ~ ' where ' ~ where
    ) -%}
    {%- set first, last = found.rows[0][0], found.rows[0][1] -%}
    {{- return(["date '" ~ first ~ "'", "date '" ~ last ~ "'"] if first and last else [none, none]) -}}
{%- endmacro %}


{#- True when every row of int_queue_intervals_localized was written by its latest build (a full build, a
    --full-refresh, a reset by new report vars) or the table is empty; always true at parse time. -#}
{% macro bucket_model_rebuilt_whole() -%}
    {%- set relation = ref('int_queue_intervals_localized') -%}
    {%- if not execute -%}{{ return(true) }}{%- endif -%}
    {%- set found = run_query('select coalesce(min(built_at) = max(built_at), true) from ' ~ relation) -%}
    {{- return(found.rows[0][0]) -}}
{%- endmacro %}


{#- on-run-start: the table of an incremental model selected in this run whose stored columns are not the
    model's documented ones (built by another version of this project, e.g. before an upgrade) is dropped, so
    the model builds it whole instead of failing on the schema change. The YAML of these models lists every
    column they produce (tests/dbt/test_incremental_equals_full.py checks it). -#}
{% macro drop_outdated_incremental_tables() %}
    {%- if execute and invocation_args_dict.get('which') in ('build', 'run') %}
        {%- set dropped = [] %}
        {%- for node in graph.nodes.values()
            if node.resource_type == 'model' and node.config.materialized == 'incremental'
            and node.unique_id in selected_resources %}
            {%- set relation = adapter.get_relation(
                database=node.database, schema=node.schema, identifier=node.alias) %}
            {%- if relation is not none %}
                {%- set stored = adapter.get_columns_in_relation(relation) | map(attribute='name')
                    | map('lower') | sort | list %}
                {%- set documented = node.columns.keys() | map('lower') | sort | list %}
                {%- if stored != documented %}
                    {{- log('rebuilding ' ~ node.name ~ ' whole: its table has the columns of another version'
                        ~ ' of the models', info=true) }}
                    {%- do adapter.drop_relation(relation) %}
                    {%- do dropped.append(node.name) %}
                {%- endif %}
            {%- endif %}
        {%- endfor %}
        {#- dbt ends a hook with a rollback of whatever its rendering left open: commit the drops now #}
        {%- if dropped %}{% do adapter.commit() %}{% endif %}
    {%- endif %}
{% endmacro %}
