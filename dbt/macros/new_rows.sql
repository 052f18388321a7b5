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
    {%- set mark = published_bookkeeping('_published_marks', 'max_id', raw_table) -%}
    {{ return(none if mark is none else mark | int - var('ledger_lookback_ids', 1000) | int) }}
{%- endmacro %}

{#-
  published_stamp(table): the same for a MUTABLE raw table (its rows are updated and restamped): the newest
  update stamp the published build saw (raw._published_stamps) less `updated_lookback_minutes` (the
  extractor's LOOKBACK_UPDATED), as a timestamp literal, or none. The arithmetic is Python's, so the SQL stays
  portable.
-#}
{% macro published_stamp(raw_table) -%}
    {%- set stamp = published_bookkeeping('_published_stamps', 'max_stamp', raw_table) -%}
    {%- if stamp is none -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set since = stamp - modules.datetime.timedelta(minutes=var('updated_lookback_minutes', 10) | int) -%}
    {{ return("cast('" ~ since.strftime('%Y-%m-%d %H:%M:%S.%f') ~ "' as timestamp)") }}
{%- endmacro %}

{#- The value a published build recorded for `raw_table` in raw.<bookkeeping>, or none (see above). -#}
{% macro published_bookkeeping(bookkeeping, column, raw_table) -%}
    {%- if not execute or flags.FULL_REFRESH -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set relation = adapter.get_relation(database=target.database, schema='raw', identifier=bookkeeping) -%}
    {%- if relation is none -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set rows = run_query(
        "select max(" ~ column ~ ") from " ~ relation ~ " where table_name = '" ~ raw_table ~ "'") -%}
    {{ return(none if rows | length == 0 else rows[0][0]) }}
{%- endmacro %}

{#-
  dbt's own get_where_subquery (what a generic test reads its model through), plus one thing: a test whose
  meta names `new_rows_since_published: {table: <raw table>, column: <the model's key>}` reads only the
  rows past published_mark(table) on an incremental run, and every row on a full build.

  Only for tests that are true of each row on its own (not_null, accepted_values, relationships to a parent
  that is never deleted) or of the key itself (unique on that key: both copies of a duplicate key pass the
  same filter), on relations whose rows never change once written (the ledger is append-only).

  `changed_since_published: {table: <mutable raw table>, stamp: <the relation's update stamp>, key: <a
  column>}` is the same for a relation whose rows are restamped when they change (ledger accounts): the
  test reads every row whose `key` is shared with a row stamped at or after published_stamp(table). A
  uniqueness test on `key`, or on columns that include it, sees both copies of a duplicate when either
  is new; a row the published build tested and that has not changed since is left.
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
    {%- set changed = (config.get('meta') or {}).get('changed_since_published') -%}
    {%- if changed -%}
        {%- set since = published_stamp(changed['table']) -%}
        {%- if since is not none -%}
            {%- set key = adapter.quote(changed['key']) -%}
            {%- set clause = key ~ ' in (select ' ~ key ~ ' from ' ~ relation ~ ' where '
                ~ adapter.quote(changed['stamp']) ~ ' >= ' ~ since ~ ')' -%}
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

{#-
  Whether the build is for the same platform day as the published build (raw._published_stamps holds that
  day as the "stamp" of raw.extract_as_of). A model whose rows depend on the day (days past due) may only
  recompute the rows whose inputs changed when it is; otherwise every row's day-dependent columns moved.
  False without a published build, on a `--full-refresh`, or when parsing.
-#}
{% macro published_platform_day_is_current() -%}
    {%- set published = published_bookkeeping('_published_stamps', 'max_stamp', 'extract_as_of') -%}
    {%- if published is none -%}
        {{ return(false) }}
    {%- endif -%}
    {%- if var('as_of_date', none) -%}
        {%- set today = var('as_of_date') | string -%}
    {%- else -%}
        {%- set rows = run_query("select max(as_of_date) from " ~ source('raw', 'extract_as_of')) -%}
        {%- set today = none if rows | length == 0 or rows[0][0] is none else rows[0][0] | string -%}
    {%- endif -%}
    {{ return(today is not none and published.date() | string == today) }}
{%- endmacro %}
