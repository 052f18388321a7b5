select
    cast(plan_id as bigint) as plan_id,
    cast(investor_id as bigint) as investor_id,
    cast(amount_cents as bigint) as amount_cents,
    cast(risk_preference as varchar) as risk_preference,
    cast(min_loans as integer) as min_loans,
    cast(status as varchar) as status,
    cast(expected_return_bps as integer) as expected_return_bps,
    cast(expected_loss_cents as bigint) as expected_loss_cents,
    cast(created_at as timestamp) as created_at,
    cast(expires_at as timestamp) as expires_at,
    cast(placed_at as timestamp) as placed_at
from {{ source('raw', 'portfolio_plans') }}
