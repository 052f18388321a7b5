select
    cast(account_id as bigint) as account_id,
    cast(account_type as varchar) as account_type,
    cast(owner_id as bigint) as owner_id,
    cast(investor_id as bigint) as investor_id,
    cast(loan_id as bigint) as loan_id,
    cast(balance_cents as bigint) as balance_cents,
    cast(created_at as timestamp) as created_at,
    cast(updated_at as timestamp) as updated_at
from {{ source('raw', 'ledger_accounts') }}
