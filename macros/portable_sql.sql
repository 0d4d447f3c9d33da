{#- Engine-specific SQL behind adapter.dispatch (README "Using your warehouse"): every construct DuckDB and
    PostgreSQL spell differently goes through one of these. The duckdb__ bodies are the exact SQL the models
    held before, so a DuckDB build is unchanged; the postgres__ ones are tested against a real server
    (tests/postgres/). Other engines get no implementation: dbt fails naming the missing macro. -#}

{#- The instant `expr` (timestamptz) as local wall-clock time in `zone`, or a local timestamp back to the
    instant (both engines overload the one function for the two directions). -#}
{% macro at_time_zone(zone, expr) %}
    {{- return(adapter.dispatch('at_time_zone', 'genesys_sla')(zone, expr)) -}}
{% endmacro %}
{% macro duckdb__at_time_zone(zone, expr) -%} timezone('{{ zone }}', {{ expr }}) {%- endmacro %}
{% macro postgres__at_time_zone(zone, expr) -%} (({{ expr }}) at time zone '{{ zone }}') {%- endmacro %}


{#- Fails the query with `message_sql` (a text expression); typed as `result_type` where a value is expected. -#}
{% macro raise_error(message_sql, result_type) %}
    {{- return(adapter.dispatch('raise_error', 'genesys_sla')(message_sql, result_type)) -}}
{% endmacro %}
{% macro duckdb__raise_error(message_sql, result_type) -%} error({{ message_sql }}) {%- endmacro %}
{#- PostgreSQL has no error() function: create_raise_error_function() (on-run-start) defines one. -#}
{% macro postgres__raise_error(message_sql, result_type) -%}
    {{ build_state_schema() }}.raise_error({{ message_sql }}, cast(null as {{ result_type }}))
{%- endmacro %}

{% macro create_raise_error_function() %}
    {{- return(adapter.dispatch('create_raise_error_function', 'genesys_sla')()) -}}
{% endmacro %}
{% macro default__create_raise_error_function() %}{% endmacro %}
{% macro postgres__create_raise_error_function() %}
    create or replace function {{ build_state_schema() }}.raise_error(message text, result anyelement)
    returns anyelement language plpgsql volatile as $fn$
    begin
        raise exception '%', message;
    end
    $fn$;
{% endmacro %}


{#- A timestamp as text in a strftime format (the PostgreSQL side knows the codes this project uses). -#}
{% macro format_timestamp(expr, format) %}
    {{- return(adapter.dispatch('format_timestamp', 'genesys_sla')(expr, format)) -}}
{% endmacro %}
{% macro duckdb__format_timestamp(expr, format) -%} strftime({{ expr }}, '{{ format }}') {%- endmacro %}
{% macro postgres__format_timestamp(expr, format) -%}
    {%- set pattern = format | replace('%Y', 'YYYY') | replace('%m', 'MM') | replace('%d', 'DD')
        | replace('%H', 'HH24') | replace('%M', 'MI') | replace('%S', 'SS') | replace('%f', 'US') | replace('T', '"T"')
        | replace('Z', '"Z"') -%}
    to_char({{ expr }}, '{{ pattern }}')
{%- endmacro %}


{#- Hour (0-23) and minute (0-59) of a local timestamp, and ISO weekday (1 = Monday) of a date, as bigint. -#}
{% macro hour_of(expr) %}{{ return(adapter.dispatch('hour_of', 'genesys_sla')(expr)) }}{% endmacro %}
{% macro duckdb__hour_of(expr) -%} hour({{ expr }}) {%- endmacro %}
{% macro postgres__hour_of(expr) -%} cast(extract(hour from {{ expr }}) as bigint) {%- endmacro %}

{#- The hour (0-23) of a local minute of the day (0-1439). -#}
{% macro hour_of_minute(minute_of_day) -%} cast(floor({{ minute_of_day }} / 60.0) as bigint) {%- endmacro %}

{% macro minute_of(expr) %}{{ return(adapter.dispatch('minute_of', 'genesys_sla')(expr)) }}{% endmacro %}
{% macro duckdb__minute_of(expr) -%} minute({{ expr }}) {%- endmacro %}
{% macro postgres__minute_of(expr) -%} cast(extract(minute from {{ expr }}) as bigint) {%- endmacro %}

{% macro iso_weekday(expr) %}{{ return(adapter.dispatch('iso_weekday', 'genesys_sla')(expr)) }}{% endmacro %}
{% macro duckdb__iso_weekday(expr) -%} isodow({{ expr }}) {%- endmacro %}
{% macro postgres__iso_weekday(expr) -%} cast(extract(isodow from {{ expr }}) as bigint) {%- endmacro %}


{#- The time of day `minute_of_day` minutes after midnight. -#}
{% macro time_of_day(minute_of_day) %}
    {{- return(adapter.dispatch('time_of_day', 'genesys_sla')(minute_of_day)) -}}
{% endmacro %}
{% macro duckdb__time_of_day(minute_of_day) -%}
    make_time({{ minute_of_day }} // 60, {{ minute_of_day }} % 60, 0)
{%- endmacro %}
{% macro postgres__time_of_day(minute_of_day) -%}
    make_time(cast({{ minute_of_day }} / 60 as integer), cast({{ minute_of_day }} % 60 as integer), 0)
{%- endmacro %}


{#- The 8-byte floating-point type (DuckDB `double`; PostgreSQL has no type of that name). -#}
{% macro type_double() %}{{ return(adapter.dispatch('type_double', 'genesys_sla')()) }}{% endmacro %}
{% macro duckdb__type_double() -%} double {%- endmacro %}
{% macro postgres__type_double() -%} double precision {%- endmacro %}


{#- round(x, places) of a double, as a double (PostgreSQL rounds to places only numerics). -#}
{% macro round_double(expr, places) %}
    {{- return(adapter.dispatch('round_double', 'genesys_sla')(expr, places)) -}}
{% endmacro %}
{% macro duckdb__round_double(expr, places) -%} round({{ expr }}, {{ places }}) {%- endmacro %}
{% macro postgres__round_double(expr, places) -%}
    cast(round(cast({{ expr }} as numeric), {{ places }}) as double precision)
{%- endmacro %}


{#- Aggregates: rows where `condition` is true; any one value; `value` at the largest `order_by` (rows with
    either NULL ignored, as DuckDB's arg_max), optionally among the rows where `where` holds. -#}
{% macro count_if(condition) %}{{ return(adapter.dispatch('count_if', 'genesys_sla')(condition)) }}{% endmacro %}
{% macro duckdb__count_if(condition) -%} count_if({{ condition }}) {%- endmacro %}
{% macro postgres__count_if(condition) -%} count(*) filter (where {{ condition }}) {%- endmacro %}

{% macro any_value(expr) %}{{ return(adapter.dispatch('any_value', 'genesys_sla')(expr)) }}{% endmacro %}
{% macro duckdb__any_value(expr) -%} any_value({{ expr }}) {%- endmacro %}
{% macro postgres__any_value(expr) -%} (array_agg({{ expr }}))[1] {%- endmacro %}

{% macro arg_max(value, order_by, where=none) %}
    {{- return(adapter.dispatch('arg_max', 'genesys_sla')(value, order_by, where)) -}}
{% endmacro %}
{% macro duckdb__arg_max(value, order_by, where=none) -%}
    arg_max({{ value }}, {{ order_by }}){% if where %} filter (where {{ where }}){% endif %}
{%- endmacro %}
{% macro postgres__arg_max(value, order_by, where=none) -%}
    (array_agg({{ value }} order by {{ order_by }} desc) filter (
        where {{ value }} is not null and {{ order_by }} is not null{% if where %} and ({{ where }}){% endif %}
    ))[1]
{%- endmacro %}


{#- Lists of doubles: the sorted non-NULL values of a group, the empty list, and how many are below a bound. -#}
{% macro sorted_list_agg(expr) %}
    {{- return(adapter.dispatch('sorted_list_agg', 'genesys_sla')(expr)) -}}
{% endmacro %}
{% macro duckdb__sorted_list_agg(expr) -%}
    list_sort(list({{ expr }}) filter (where {{ expr }} is not null))
{%- endmacro %}
{% macro postgres__sorted_list_agg(expr) -%}
    array_agg({{ expr }} order by {{ expr }}) filter (where {{ expr }} is not null)
{%- endmacro %}

{% macro empty_double_list() %}{{ return(adapter.dispatch('empty_double_list', 'genesys_sla')()) }}{% endmacro %}
{% macro duckdb__empty_double_list() -%} [] {%- endmacro %}
{% macro postgres__empty_double_list() -%} cast(array[] as double precision []) {%- endmacro %}

{% macro count_below(list_expr, bound) %}
    {{- return(adapter.dispatch('count_below', 'genesys_sla')(list_expr, bound)) -}}
{% endmacro %}
{% macro duckdb__count_below(list_expr, bound) -%}
    len(list_filter({{ list_expr }}, lambda pct: pct < {{ bound }}))
{%- endmacro %}
{% macro postgres__count_below(list_expr, bound) -%}
    (select count(*) from unnest({{ list_expr }}) as listed (pct) where listed.pct < {{ bound }})
{%- endmacro %}


{#- A list of text literals (`items`: Python strings), typed varchar[]. -#}
{% macro varchar_list(items) %}{{ return(adapter.dispatch('varchar_list', 'genesys_sla')(items)) }}{% endmacro %}
{% macro duckdb__varchar_list(items) -%}
    [{% for item in items %}'{{ item }}'{{ ", " if not loop.last }}{% endfor %}]::varchar []
{%- endmacro %}
{% macro postgres__varchar_list(items) -%}
    array[{% for item in items %}'{{ item }}'{{ ", " if not loop.last }}{% endfor %}]::varchar []
{%- endmacro %}


{#- A 64-bit hash of a row's values (`exprs`: SQL expressions), for order-free fingerprints of many rows. -#}
{% macro row_hash(exprs) %}{{ return(adapter.dispatch('row_hash', 'genesys_sla')(exprs)) }}{% endmacro %}
{% macro duckdb__row_hash(exprs) -%} hash({{ exprs | join(', ') }}) {%- endmacro %}
{% macro postgres__row_hash(exprs) -%}
    hashtextextended(concat_ws('|', {{ exprs | join(', ') }}), 0)
{%- endmacro %}


{#- A reference to a model from a view in another schema. DuckDB: unqualified, resolved in the view's own
    schema, so the view survives a copied or renamed database file (fct_queue_intervals says why); PostgreSQL
    binds a view to the table itself at creation, so there the full name is used. -#}
{% macro view_ref(model_name) %}
    {{- return(adapter.dispatch('view_ref', 'genesys_sla')(model_name)) -}}
{% endmacro %}
{% macro duckdb__view_ref(model_name) -%}
    {{ ref(model_name).include(database=False, schema=False) }}
{%- endmacro %}
{% macro postgres__view_ref(model_name) -%} {{ ref(model_name) }} {%- endmacro %}


{#- The number of elements of a list (PostgreSQL: of a one-dimensional array; 0 when empty). -#}
{% macro list_length(list_expr) %}{{ return(adapter.dispatch('list_length', 'genesys_sla')(list_expr)) }}{% endmacro %}
{% macro duckdb__list_length(list_expr) -%} len({{ list_expr }}) {%- endmacro %}
{% macro postgres__list_length(list_expr) -%} cardinality({{ list_expr }}) {%- endmacro %}
