-- Every posting with its account and transaction. The owner ids come from the account row, or from
-- its code (`<account_type>:<owner id>`) when the API left them null.
with entries as (
    select * from {{ ref('stg_ledger_entries') }}
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
    accounts.account_code,
    accounts.account_type,
    coalesce(
        accounts.investor_id,
        case when accounts.account_type like 'investor\_%' escape '\'
            then try_cast(split_part(accounts.account_code, ':', 2) as bigint) end
    ) as investor_id,
    coalesce(
        accounts.loan_id,
        case when accounts.account_type like 'loan\_%' escape '\'
            then try_cast(split_part(accounts.account_code, ':', 2) as bigint) end
    ) as loan_id,
    transactions.kind as transaction_kind,
    transactions.created_at as posted_at,
    cast(transactions.created_at as date) as posted_date
from entries
inner join accounts on entries.account_id = accounts.account_id
inner join transactions on entries.transaction_id = transactions.transaction_id
