{#- Integer division of two integer expressions, of non-negative operands (both engines then agree: rounding down). Pro-rata
    splits need it exact: a float quotient can land on the wrong side of an integer. -#}
{% macro int_div(numerator, denominator) -%}
    {{ return(adapter.dispatch('int_div', 'peerlend')(numerator, denominator)) }}
{%- endmacro %}

{% macro duckdb__int_div(numerator, denominator) -%}
    (cast({{ numerator }} as hugeint) // cast({{ denominator }} as hugeint))
{%- endmacro %}

{% macro spark__int_div(numerator, denominator) -%}
    div(cast({{ numerator }} as decimal(38, 0)), cast({{ denominator }} as decimal(38, 0)))
{%- endmacro %}

{% macro default__int_div(numerator, denominator) -%}
    floor(cast({{ numerator }} as decimal(38, 0)) / cast({{ denominator }} as decimal(38, 0)))
{%- endmacro %}
