select
    cast(entry_id as bigint) as entry_id,
    cast(transaction_id as bigint) as transaction_id,
    cast(account_id as bigint) as account_id,
    cast(amount_cents as bigint) as amount_cents
from {{ source('raw', 'ledger_entries') }}
