{#- The platform day this build is for: the day of the last extraction (raw.extract_as_of, written by the
    extractor from the platform's clock, frozen in tests and by the demo seeder). Everything that depends
    on "now" (what is late, the current month) reads it here, so a rerun builds the same rows, and a dbt
    run never needs a per-run var (a changed var would cost dbt its partial parse). Unit tests pin it with
    `overrides: vars: {as_of_date: ...}`. -#}
{% macro as_of_date() -%}
    {%- if var('as_of_date', none) -%}
        cast('{{ var("as_of_date") }}' as date)
    {%- else -%}
        (select max(as_of_date) from {{ source('raw', 'extract_as_of') }})
    {%- endif -%}
{%- endmacro %}
