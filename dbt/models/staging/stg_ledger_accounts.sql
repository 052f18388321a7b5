select
    cast(account_id as bigint) as account_id,
    cast(code as varchar) as account_code,
    cast(account_type as varchar) as account_type,
    cast(investor_id as bigint) as investor_id,
    cast(loan_id as bigint) as loan_id,
    cast(created_at as timestamp) as created_at
from {{ source('raw', 'ledger_accounts') }}
