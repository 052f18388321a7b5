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
    cast(created_at as timestamp) as created_at,
    cast(prepayment_cents as bigint) as prepayment_cents,
    cast(recovery_cents as bigint) as recovery_cents,
    cast(excess_cents as bigint) as excess_cents,
    cast(servicing_fee_cents as bigint) as servicing_fee_cents,
    cast(status as varchar) as payment_status,
    cast(return_code as varchar) as return_code
from {{ source('raw', 'payments') }}
