{#- dbt-duckdb's delete+insert deletes with `delete ... using <new rows> where <keys match>`: a join that
    pairs each stored row with every new row of its key. When the key is coarser than the rows (a month of
    int_queue_slots_by_month holds ~170 rows) that join grows to millions of pairs (1.8 s for 192k rows
    replaced). This version deletes with a semi-join on the new rows' distinct keys, as dbt's default
    (PostgreSQL) version does. -#}
{% macro duckdb__get_delete_insert_merge_sql(target, source, unique_key, dest_columns, incremental_predicates) -%}
    {%- set dest_cols_csv = get_quoted_csv(dest_columns | map(attribute="name")) -%}
    {%- set keys = [unique_key] if unique_key is string else (unique_key or []) -%}
    {%- if keys %}
        delete from {{ target }} as dbt_incremental_target
        where exists (
            select 1
            from (select distinct {{ keys | join(', ') }} from {{ source }}) as dbt_new_keys
            where
                {%- for key in keys %}
                    dbt_new_keys.{{ key }} = dbt_incremental_target.{{ key }}{{ " and" if not loop.last }}
                {%- endfor %}
        )
        {%- for predicate in incremental_predicates or [] %}
            and {{ predicate }}
        {%- endfor %};
    {%- endif %}

    insert into {{ target }} ({{ dest_cols_csv }})
    (
        select {{ dest_cols_csv }}
        from {{ source }}
    )
{%- endmacro %}
