select
    cast(transaction_id as bigint) as transaction_id,
    cast(kind as varchar) as kind,
    cast(loan_id as bigint) as loan_id,
    cast(payment_id as bigint) as payment_id,
    cast(transfer_id as bigint) as transfer_id,
    cast(investment_id as bigint) as investment_id,
    cast(description as varchar) as description,
    cast(created_at as timestamp) as created_at
from {{ source('raw', 'ledger_transactions') }}
