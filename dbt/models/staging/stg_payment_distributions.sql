select
    cast(distribution_id as bigint) as distribution_id,
    cast(payment_id as bigint) as payment_id,
    cast(investment_id as bigint) as investment_id,
    cast(investor_id as bigint) as investor_id,
    cast(principal_cents as bigint) as principal_cents,
    cast(interest_cents as bigint) as interest_cents,
    cast(fees_cents as bigint) as fees_cents,
    cast(recovery_cents as bigint) as recovery_cents,
    cast(servicing_fee_cents as bigint) as servicing_fee_cents
from {{ source('raw', 'payment_distributions') }}
