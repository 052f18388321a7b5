-- loans.funded_amount_cents is a running total kept by the API; it equals the sum of the loan's notes.
with notes as (
    select loan_id, sum(amount_cents) as invested_cents
    from {{ ref('stg_investments') }}
    group by loan_id
)

select loans.loan_id, loans.funded_amount_cents, notes.invested_cents
from {{ ref('stg_loans') }} as loans
left join notes on loans.loan_id = notes.loan_id
where loans.status not in ('expired', 'cancelled')
  and loans.funded_amount_cents <> coalesce(notes.invested_cents, 0)
