-- Every disbursed loan has exactly one state in its last month on the books, and the states of the build's
-- month add up to the loans still on the books plus those that closed this month.
with last_states as (
    select loan_id, count(*) as months_count, max(month_date) as last_month_date
    from {{ ref('int_loan_month_states') }}
    group by loan_id
)

select loans.loan_id, last_states.months_count
from {{ ref('fct_borrower_loans') }} as loans
left join last_states on loans.loan_id = last_states.loan_id
where loans.disbursed_at is not null
  and (last_states.loan_id is null or last_states.months_count < 1)
