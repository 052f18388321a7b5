{#- One row per `part` ('day' or 'month') from `start_col` to `end_col` inclusive, for every row of
    `relation` (a CTE or table name), as `spine_date` DATE, next to the relation's columns.
    For 'month' the series steps from `start_col`, which callers pass as a first-of-month date. -#}
{% macro date_spine(relation, start_col, end_col, part='day') -%}
    {{ return(adapter.dispatch('date_spine', 'peerlend')(relation, start_col, end_col, part)) }}
{%- endmacro %}

{% macro duckdb__date_spine(relation, start_col, end_col, part) -%}
    select
        spined.*,
        cast(unnest(generate_series(cast(spined.{{ start_col }} as date), cast(spined.{{ end_col }} as date),
            interval 1 {{ part }})) as date) as spine_date
    from {{ relation }} as spined
{%- endmacro %}

{% macro spark__date_spine(relation, start_col, end_col, part) -%}
    select
        spined.*,
        explode(sequence(to_date(spined.{{ start_col }}), to_date(spined.{{ end_col }}), interval 1 {{ part }}))
            as spine_date
    from {{ relation }} as spined
{%- endmacro %}

{% macro default__date_spine(relation, start_col, end_col, part) -%}
    {#- ANSI: a recursive CTE (PostgreSQL, Snowflake, ...). -#}
    with recursive spine_rows as (
        select spined.*, cast(spined.{{ start_col }} as date) as spine_date
        from {{ relation }} as spined
        where spined.{{ start_col }} <= spined.{{ end_col }}
        union all
        select spine_rows.*, cast({{ dbt.dateadd(part, 1, 'spine_rows.spine_date') }} as date)
        from spine_rows
        where {{ dbt.dateadd(part, 1, 'spine_rows.spine_date') }} <= spine_rows.{{ end_col }}
    )
    select * from spine_rows
{%- endmacro %}
