{#- Pre-hook of the incremental fct_queue_intervals: its local columns (report_date, report_hour) and SL
    numerator/denominator depend on vars report_timezone and sl_formula, so when any stored row was built
    with other values, empty the table; the model then reprocesses every bucket (its watermark is gone).
    Cheaper than delete+insert of every key, and never leaves dates cut in an older zone. -#}
{% macro reset_intervals_on_report_change() %}
    {%- if is_incremental() %}
        delete from {{ this }}
        where exists (
            select 1
            from {{ this }}
            where report_timezone is distinct from '{{ report_timezone() }}'
                or sl_formula is distinct from '{{ sl_formula() }}'
        )
    {%- endif %}
{% endmacro %}
