{#- Fails when any row holds a NULL in a column of `not_null`, or makes an expression of `expressions`
    (check name: boolean SQL) false or NULL: the same conditions as one not_null / expression_is_true test
    each, checked in ONE scan of the model (on a bucket-grain table each separate test rescans millions of
    rows). Returns one row per broken check, naming it, with the number of rows that break it; the test's
    failure count is the total of those rows. The rows breaking any check are selected first with
    one combined condition (usually none): counting every check over every row costs three times as much. -#}
{% test row_checks(model, not_null=[], expressions={}) %}
    {{ config(fail_calc='coalesce(sum(failing_rows), 0)') }}
    {%- set checks = [] %}
    {%- for column in not_null %}
        {%- do checks.append((column ~ ' is null', column ~ ' is not null')) %}
    {%- endfor %}
    {%- for name, expression in expressions.items() %}
        {%- do checks.append((name, 'coalesce((' ~ expression ~ '), false)')) %}
    {%- endfor %}

    with

    failing as (

        select *
        from {{ model }}
        where not (
            {% for check in checks -%}
                {{ check[1] }}{{ ' and' if not loop.last }}
            {% endfor %}
        )

    ),

    counted as (

        select
            {% for check in checks -%}
                count(*) filter (where not {{ check[1] }}) as check_{{ loop.index }}{{ ',' if not loop.last }}
            {% endfor %}
        from failing

    )

    {% for check in checks -%}
        select
            '{{ check[0] | replace("'", "''") }}' as failed_check,
            check_{{ loop.index }} as failing_rows
        from counted
        where check_{{ loop.index }} > 0
        {{ 'union all' if not loop.last }}
    {% endfor %}

{% endtest %}
