{#- Integer cents -> DECIMAL(18,2) dollars, exactly (no float on the way).
    DuckDB turns DECIMAL / INTEGER into DOUBLE, so multiply by 0.01 instead: a decimal product is exact. -#}
{% macro cents_to_dollars(column_name) -%}
    cast(cast({{ column_name }} as decimal(18, 0)) * 0.01 as decimal(18, 2))
{%- endmacro %}

{#- Basis points (600) -> percent DECIMAL(6,2) (6.00), exactly. -#}
{% macro bps_to_percent(column_name) -%}
    cast(cast({{ column_name }} as decimal(6, 0)) * 0.01 as decimal(6, 2))
{%- endmacro %}
