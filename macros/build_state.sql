{#- Read safety (README "Query and export"). Every dbt build/run/seed/snapshot is recorded in
    genesys_build.build_runs: 'running' when it starts (on-run-start), then 'success' or 'failed' (on-run-end).
    The public marts main.<mart> are views over genesys_build.<mart> that raise an error unless the latest
    recorded build is a success, so no reader sees marts of an interrupted build (the row stays 'running')
    or marts whose tests failed. A success (re)creates the views in the same transaction as its status. -#}

{% macro build_state_schema() %}genesys_build{% endmacro %}

{% macro _build_state_literal(value) -%}
    {%- if value is none -%} null {%- else -%} '{{ value | string | replace("'", "''") }}' {%- endif -%}
{%- endmacro %}

{% macro build_state_start() %}
    {%- if execute and invocation_args_dict.get('which') in ('build', 'run', 'seed', 'snapshot') %}
        create schema if not exists {{ build_state_schema() }};
        {{ create_raise_error_function() }}
        create table if not exists {{ build_state_schema() }}.build_runs (
            invocation_id varchar primary key,
            command varchar not null,
            status varchar not null,
            started_at timestamptz not null,
            finished_at timestamptz,
            report_timezone varchar,
            report_start date,
            report_end date,
            sl_formula varchar,
            build_vars json,
            builder_pid integer,
            marts varchar [],
            message varchar
        );
        insert into {{ build_state_schema() }}.build_runs
            (invocation_id, command, status, started_at, report_timezone, report_start, report_end, sl_formula,
             build_vars, builder_pid)
        values (
            '{{ invocation_id }}',
            '{{ invocation_args_dict.get('which') }}',
            'running',
            now(),
            {{ _build_state_literal(var('report_timezone')) }},
            {{ _build_state_literal(var('report_start')) }},
            {{ _build_state_literal(var('report_end')) }},
            {{ _build_state_literal(var('sl_formula')) }},
            {{ _build_state_literal(tojson(invocation_args_dict.get('vars') or {})) }},
            {{ (env_var('GENESYS_BUILDER_PID', '') | int) or 'null' }}
        )
    {%- endif %}
{% endmacro %}

{#- The guard of a public view: true when the latest recorded build succeeded, else DuckDB error(). It
    sits in WHERE as a scalar subquery, so it fires even on an empty mart and for any client (BI tools too).
    arg_max picks the latest record before error() is evaluated: a CASE over all rows, then ORDER BY/LIMIT,
    would raise on an older unfinished build. -#}
{% macro _build_state_guard() -%}
    (
        select
            case
                when latest.status = 'success' then true
                when latest.status is null
                    then {{ raise_error("'error: no build is recorded; run ''make build'' first'", 'boolean') }}
                when latest.status = 'running'
                    then {{ raise_error(
                        "'error: the last build (started ' || "
                        ~ format_timestamp(at_time_zone('UTC', 'latest.started_at'), '%Y-%m-%d %H:%M:%S')
                        ~ " || ' UTC) did not finish, so the marts may mix two builds;'"
                        ~ " || ' run ''make build'' again'",
                        'boolean'
                    ) }}
                else {{ raise_error(
                    "'error: the last build (started ' || "
                    ~ format_timestamp(at_time_zone('UTC', 'latest.started_at'), '%Y-%m-%d %H:%M:%S')
                    ~ " || ' UTC) failed (' || coalesce(latest.message, 'see logs')"
                    ~ " || '); fix it and run ''make build'' again'",
                    'boolean'
                ) }}
            end
        from (
            select
                {{ arg_max('runs.status', 'runs.started_at') }} as status,
                max(runs.started_at) as started_at,
                {{ arg_max('runs.message', 'runs.started_at') }} as message
            from {{ build_state_schema() }}.build_runs as runs
        ) as latest
    )
{%- endmacro %}

{% macro build_state_end(results) %}
    {%- if execute and invocation_args_dict.get('which') in ('build', 'run', 'seed', 'snapshot') %}
        {%- set failed = [] %}
        {%- set ran = [] %}
        {%- for result in results %}
            {%- do ran.append(result.node.unique_id) %}
            {%- if result.status | string | lower not in ('success', 'pass', 'warn') %}
                {%- do failed.append(result.node.name ~ ' ' ~ result.status) %}
            {%- endif %}
        {%- endfor %}
        {%- set marts = [] %}
        {%- set missing = [] %}
        {%- for node in graph.nodes.values() if node.resource_type in ('model', 'seed') %}
            {%- if node.unique_id not in ran %}{% do missing.append(node.name) %}{% endif %}
            {#- the public marts: dim_/fct_ models of models/marts/ (helper models there stay private) #}
            {%- if node.resource_type == 'model' and node.schema == build_state_schema()
                and (node.name.startswith('dim_') or node.name.startswith('fct_')) %}
                {%- do marts.append(node.name) %}
            {%- endif %}
        {%- endfor %}
        {%- set marts = marts | sort %}
        {%- if invocation_args_dict.get('which') != 'build' %}
            {%- set problem = 'dbt ' ~ invocation_args_dict.get('which') ~ ' does not run the tests' %}
        {%- elif failed %}
            {%- set problem = (failed | length) ~ ' failing: ' ~ (failed[:5] | join(', ')) %}
        {%- elif missing %}
            {%- set problem = 'partial build, not run: ' ~ (missing[:5] | join(', ')) %}
        {%- else %}
            {%- set problem = none %}
        {%- endif %}
        begin transaction;
        update {{ build_state_schema() }}.build_runs
        set
            status = '{{ "failed" if problem else "success" }}',
            finished_at = now(),
            marts = {{ varchar_list(marts) }},
            message = {{ _build_state_literal(problem) }}
        where invocation_id = '{{ invocation_id }}';
        {%- if not problem %}
            {%- for mart in marts %}
                {%- set existing = adapter.get_relation(database=target.database, schema=target.schema,
                    identifier=mart) %}
                {%- if existing is not none and existing.type == 'table' %}
                    drop table {{ existing }};
                {%- endif %}
                create or replace view {{ target.schema }}.{{ mart }} as
                select * from {{ build_state_schema() }}.{{ mart }}
                where {{ _build_state_guard() }};
            {%- endfor %}
        {%- endif %}
        commit;
    {%- endif %}
{% endmacro %}


{#- When the last successful build started, as a timestamptz literal (-infinity before the first one). Every
    row an incremental model rebuilt since then carries a later built_at: that build's marts saw the rest. -#}
{% macro last_successful_build_started_at() -%}
    {{- max_timestamp_literal('started_at', build_state_schema() ~ '.build_runs', "status = 'success'")
        or "cast('-infinity' as timestamptz)" -}}
{%- endmacro %}
