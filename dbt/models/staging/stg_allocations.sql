select
    cast(allocation_id as bigint) as allocation_id,
    cast(run_id as bigint) as run_id,
    cast("round" as integer) as round,
    cast(loan_id as bigint) as loan_id,
    cast(investor_id as bigint) as investor_id,
    cast(rule_id as bigint) as rule_id,
    cast(investment_id as bigint) as investment_id,
    cast(amount_cents as bigint) as amount_cents,
    cast(queue_position as integer) as queue_position,
    cast(priority_ppm as integer) as priority_ppm,
    cast(tiebreak as bigint) as tiebreak,
    cast(filled_after_cents as bigint) as filled_after_cents,
    cast(capacity_cents as bigint) as capacity_cents,
    cast(budget_spent_cents as bigint) as budget_spent_cents,
    cast(budget_cents as bigint) as budget_cents
from {{ source('raw', 'allocations') }}
