{#- The one way money and rates leave integers, in marts only (intermediate models keep integer cents).
    Portable: DECIMAL arithmetic is exact on DuckDB, Spark and PostgreSQL alike; no float on the way. -#}

{#- Integer cents -> DECIMAL(18,2) dollars, exactly. DuckDB turns DECIMAL / INTEGER into DOUBLE, so
    multiply by 0.01 instead: a decimal product is exact. -#}
{% macro cents_to_dollars(column_name) -%}
    cast(cast({{ column_name }} as decimal(18, 0)) * 0.01 as decimal(18, 2))
{%- endmacro %}

{#- Basis points (600) -> percent DECIMAL(6,2) (6.00), exactly. -#}
{% macro bps_to_percent(column_name) -%}
    cast(cast({{ column_name }} as decimal(6, 0)) * 0.01 as decimal(6, 2))
{%- endmacro %}

{#- Parts per million (42000) -> probability DECIMAL(9,6) (0.042000), exactly. -#}
{% macro ppm_to_probability(column_name) -%}
    cast(cast({{ column_name }} as decimal(9, 0)) * 0.000001 as decimal(9, 6))
{%- endmacro %}

{#- A ratio of two integer-cent (or count) expressions as DECIMAL(18,6); null when the denominator is 0.
    Both sides are cast to DECIMAL first so no engine divides integers (truncating) or floats. -#}
{% macro ratio(numerator, denominator) -%}
    case when ({{ denominator }}) = 0 then null
        else cast(cast({{ numerator }} as decimal(38, 6)) / cast({{ denominator }} as decimal(38, 6)) as decimal(18, 6))
    end
{%- endmacro %}
