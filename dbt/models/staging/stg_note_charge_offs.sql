select
    cast(investment_id as bigint) as investment_id,
    cast(loan_id as bigint) as loan_id,
    cast(investor_id as bigint) as investor_id,
    cast(principal_cents as bigint) as principal_cents,
    cast(charged_off_on as date) as charged_off_date,
    cast(created_at as timestamp) as created_at
from {{ source('raw', 'note_charge_offs') }}
