-- What each note has received from the borrower's payments.
select
    investment_id,
    cast(sum(principal_cents) as bigint) as principal_received_cents,
    cast(sum(interest_cents) as bigint) as interest_received_cents,
    cast(count(*) as integer) as distributions_count
from {{ ref('stg_payment_distributions') }}
group by investment_id
