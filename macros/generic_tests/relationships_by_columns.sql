{#- Fails for every row whose combination of `columns` has no row in `to` (e.g. org_id + queue_id). -#}
{% test relationships_by_columns(model, to, columns) %}

    select child.*
    from {{ model }} as child
    where not exists (
        select 1
        from {{ to }} as parent
        where
            {% for column in columns -%}
                {{ 'and ' if not loop.first }}parent.{{ column }} = child.{{ column }}
            {% endfor %}
    )

{% endtest %}
