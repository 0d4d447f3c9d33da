{#- Fails for every row whose combination of `columns` has no row in `to` (e.g. org_id + queue_id). -#}
{% test relationships_by_columns(model, to, columns) %}

    -- a CTE, not an alias: with a `where` config, `model` renders as a subquery that already has one
    with child as (

        select * from {{ model }}

    )

    select child.*
    from child
    where not exists (
        select 1
        from {{ to }} as parent
        where
            {% for column in columns -%}
                {{ 'and ' if not loop.first }}parent.{{ column }} = child.{{ column }}
            {% endfor %}
    )

{% endtest %}
