{{ config(materialized='incremental', unique_key='entry_id', on_schema_change='append_new_columns') }}
-- Every posting with its account and transaction. Postings, accounts' identities and transactions never
-- change (the API refuses UPDATE and DELETE on the ledger), so each run appends only the postings it has
-- not seen; a window below the high-water mark is re-checked because raw re-reads one (a PostgreSQL
-- transaction can commit a smaller id late), and a no-change run inserts nothing.
with entries as (
    select * from {{ ref('stg_ledger_entries') }}
    {% if is_incremental() %}
    where entry_id > (select coalesce(max(entry_id), 0) - {{ var('ledger_lookback_ids', 1000) }} from {{ this }})
      and entry_id not in (
          select entry_id from {{ this }}
          where entry_id > (select coalesce(max(entry_id), 0) - {{ var('ledger_lookback_ids', 1000) }} from {{ this }})
      )
    {% endif %}
),

accounts as (
    select * from {{ ref('stg_ledger_accounts') }}
),

transactions as (
    select * from {{ ref('stg_ledger_transactions') }}
)

select
    entries.entry_id,
    entries.transaction_id,
    entries.account_id,
    entries.amount_cents,
    accounts.account_type,
    accounts.owner_id,
    accounts.investor_id,
    accounts.loan_id,
    transactions.kind as transaction_kind,
    transactions.created_at as posted_at,
    cast(transactions.created_at as date) as posted_date
from entries
inner join accounts on entries.account_id = accounts.account_id
inner join transactions on entries.transaction_id = transactions.transaction_id
