{#- Fails for every non-NULL value of column_name outside [min_value, max_value]; a bound is exclusive when
    inclusive=false, or per bound with min_inclusive / max_inclusive. -#}
{% test accepted_range(
    model,
    column_name,
    min_value=none,
    max_value=none,
    inclusive=true,
    min_inclusive=none,
    max_inclusive=none
) %}
{%- set min_incl = inclusive if min_inclusive is none else min_inclusive %}
{%- set max_incl = inclusive if max_inclusive is none else max_inclusive %}
{%- set below = [column_name ~ (' < ' if min_incl else ' <= ') ~ min_value] if min_value is not none else [] %}
{%- set above = [column_name ~ (' > ' if max_incl else ' >= ') ~ max_value] if max_value is not none else [] %}
{%- set checks = below + above %}

    select *
    from {{ model }}
    where {{ column_name }} is not null and ({{ checks | join(' or ') if checks else 'false' }})

{% endtest %}
