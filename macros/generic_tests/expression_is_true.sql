{#- Fails for every row where the boolean SQL `expression` is false or NULL (column_name, when the test sits
    on a column, is only documentation: the expression names its columns). -#}
{% test expression_is_true(model, expression, column_name=none) %}

    select *
    from {{ model }}
    where not coalesce(({{ expression }}), false)

{% endtest %}
