select
    cast(installment_id as bigint) as installment_id,
    cast(loan_id as bigint) as loan_id,
    cast(number as integer) as installment_number,
    cast(due_date as date) as due_date,
    cast(payment_cents as bigint) as payment_cents,
    cast(principal_cents as bigint) as principal_cents,
    cast(interest_cents as bigint) as interest_cents,
    cast(balance_after_cents as bigint) as balance_after_cents,
    cast(paid_principal_cents as bigint) as paid_principal_cents,
    cast(paid_interest_cents as bigint) as paid_interest_cents,
    cast(paid_at as timestamp) as paid_at,
    cast(updated_at as timestamp) as updated_at
from {{ source('raw', 'installments') }}
