select
    cast(loan_id as bigint) as loan_id,
    cast(as_of as date) as as_of_date,
    cast(status as varchar) as servicing_status,
    cast(days_past_due as integer) as days_past_due,
    cast(principal_cents as bigint) as principal_cents,
    cast(interest_cents as bigint) as interest_cents,
    cast(fees_cents as bigint) as fees_cents,
    cast(excess_cents as bigint) as excess_cents,
    cast(past_due_cents as bigint) as past_due_cents,
    cast(next_due_date as date) as next_due_date,
    cast(next_due_cents as bigint) as next_due_cents,
    cast(payoff_cents as bigint) as payoff_cents,
    cast(charged_off_on as date) as charged_off_date,
    cast(charged_off_principal_cents as bigint) as charged_off_principal_cents,
    cast(recovered_cents as bigint) as recovered_cents,
    cast(updated_at as timestamp) as updated_at
from {{ source('raw', 'loan_servicing') }}
