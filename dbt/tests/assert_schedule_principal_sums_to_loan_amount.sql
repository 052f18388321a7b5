-- Every disbursed loan has a schedule whose principal sums to the disbursed (funded) amount.
with schedule as (
    select loan_id, sum(principal_cents) as scheduled_principal_cents
    from {{ ref('fct_loan_schedule') }}
    group by loan_id
)

select loans.loan_id, loans.funded_amount_cents, schedule.scheduled_principal_cents
from {{ ref('fct_borrower_loans') }} as loans
left join schedule on loans.loan_id = schedule.loan_id
where loans.disbursed_at is not null
  and schedule.scheduled_principal_cents is distinct from loans.funded_amount_cents
