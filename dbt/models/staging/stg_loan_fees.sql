select
    cast(fee_id as bigint) as fee_id,
    cast(loan_id as bigint) as loan_id,
    cast(installment_number as integer) as installment_number,
    cast(assessed_on as date) as assessed_date,
    cast(amount_cents as bigint) as amount_cents,
    cast(reason as varchar) as reason,
    cast(created_at as timestamp) as created_at
from {{ source('raw', 'loan_fees') }}
