-- What each note has received from the borrower's settled payments (a returned payment's distributions
-- were reversed in the ledger, so they are not received; the API's portfolio reads settled ones only).
select
    distributions.investment_id,
    cast(sum(distributions.principal_cents) as bigint) as principal_received_cents,
    cast(sum(distributions.interest_cents) as bigint) as interest_received_cents,
    cast(count(*) as integer) as distributions_count
from {{ ref('stg_payment_distributions') }} as distributions
inner join {{ ref('stg_payments') }} as payments on distributions.payment_id = payments.payment_id
where payments.payment_status = 'settled'
group by distributions.investment_id
