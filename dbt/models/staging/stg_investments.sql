select
    cast(investment_id as bigint) as investment_id,
    cast(loan_id as bigint) as loan_id,
    cast(investor_id as bigint) as investor_id,
    cast(amount_cents as bigint) as amount_cents,
    cast(created_at as timestamp) as invested_at,
    cast(status as varchar) as note_status,
    cast(source as varchar) as note_source,
    cast(ended_at as timestamp) as ended_at
from {{ source('raw', 'investments') }}
