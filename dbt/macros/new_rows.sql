{#-
  What the last PUBLISHED build already covered, so an incremental run tests and rebuilds only what is new.

  The pipeline records, with every build it publishes (pipelines/lib/publish.py, record_built_generation),
  the largest id of each append-only raw table that build was made from, in raw._published_marks; and it
  drops those marks before a build of everything. A build is only published once every test passed, so
  rows up to a mark were tested and built from; rows past it, and a window of `ledger_lookback_ids` below
  it (the extractor's LOOKBACK_IDS: a PostgreSQL transaction can commit a smaller id late), are "new".
  A mark older than a model's own state (a build that passed dbt but was not published) only widens
  what is treated as new, never narrows it.

  published_mark(table) is that floor (mark - lookback), or none: no mark, a `--full-refresh`, or parsing
  (no database then) -- callers then test or build everything.
-#}
{% macro published_mark(raw_table) -%}
    {%- if not execute or flags.FULL_REFRESH -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set marks = adapter.get_relation(database=target.database, schema='raw', identifier='_published_marks') -%}
    {%- if marks is none -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set rows = run_query("select max(max_id) from " ~ marks ~ " where table_name = '" ~ raw_table ~ "'") -%}
    {%- if rows | length == 0 or rows[0][0] is none -%}
        {{ return(none) }}
    {%- endif -%}
    {{ return(rows[0][0] | int - var('ledger_lookback_ids', 1000) | int) }}
{%- endmacro %}

{#-
  dbt's own get_where_subquery (what a generic test reads its model through), plus one thing: a test whose
  meta names `new_rows_since_published: {table: <raw table>, column: <the model's key>}` reads only the
  rows past published_mark(table) on an incremental run, and every row on a full build.

  Only for tests that are true of each row on its own (not_null, accepted_values, relationships to a parent
  that is never deleted) or of the key itself (unique on that key: both copies of a duplicate key pass the
  same filter), on relations whose rows never change once written (the ledger is append-only).
-#}
{% macro get_where_subquery(relation) -%}
    {%- set where = config.get('where', '') -%}
    {%- set new_rows = (config.get('meta') or {}).get('new_rows_since_published') -%}
    {%- if new_rows -%}
        {%- set floor = published_mark(new_rows['table']) -%}
        {%- if floor is not none -%}
            {%- set clause = adapter.quote(new_rows['column']) ~ ' > ' ~ floor -%}
            {%- set where = clause if not where else '(' ~ where ~ ') and ' ~ clause -%}
        {%- endif -%}
    {%- endif -%}
    {%- if where -%}
        {%- set filtered -%}
            (select * from {{ relation }} where {{ where }}) dbt_subquery
        {%- endset -%}
        {{ return(filtered) }}
    {%- else -%}
        {{ return(relation) }}
    {%- endif -%}
{%- endmacro %}
