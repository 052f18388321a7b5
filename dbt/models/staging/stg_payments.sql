select
    cast(payment_id as bigint) as payment_id,
    cast(loan_id as bigint) as loan_id,
    cast(payer_user_id as bigint) as payer_user_id,
    cast(amount_cents as bigint) as amount_cents,
    cast(principal_cents as bigint) as principal_cents,
    cast(interest_cents as bigint) as interest_cents,
    cast(fees_cents as bigint) as fees_cents,
    cast(processor_reference as varchar) as processor_reference,
    cast("date" as date) as payment_date,
    cast(created_at as timestamp) as created_at
from {{ source('raw', 'payments') }}
