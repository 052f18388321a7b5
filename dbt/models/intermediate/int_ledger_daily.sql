{{ config(materialized='incremental', unique_key='posted_date', incremental_strategy='delete+insert',
    on_schema_change='append_new_columns') }}
-- The ledger's daily flows the platform KPIs read (fct_platform_kpis_daily), one row per day with postings.
-- Incremental: a run recomputes, from ALL that day's postings, every day that holds a posting past the
-- published build's mark (published_mark), and replaces those days; a day without a new posting has the
-- same postings as when its row was computed. Without a mark every day is recomputed (a full build).
{% set floor = published_mark('ledger_entries') if is_incremental() else none %}
with ledger as (
    select posted_date, account_type, transaction_kind, investor_id, amount_cents
    from {{ ref('int_ledger_entries_joined') }}
    {% if floor is not none %}
    where posted_date in (
        select distinct posted_date from {{ ref('int_ledger_entries_joined') }} where entry_id > {{ floor }}
    )
    {% endif %}
)

select
    cast(posted_date as date) as posted_date,
    cast(sum(case when account_type = 'loan_principal' and transaction_kind = 'disbursement'
        then amount_cents else 0 end) as bigint) as originations_cents,
    cast(sum(case when account_type in ('processor_cash', 'processor_in_transit') and transaction_kind = 'deposit'
        then amount_cents else 0 end) as bigint) as deposits_cents,
    cast(sum(case when account_type = 'loan_principal' then amount_cents else 0 end) as bigint)
        as principal_change_cents,
    cast(count(distinct case when transaction_kind in ('deposit', 'withdrawal', 'investment')
        then investor_id end) as integer) as active_investors
from ledger
group by posted_date
