-- Loan states by month: for every month and grade, how many disbursed loans were in each state at the
-- month's end (the current month as of the build's platform day) and their outstanding principal.
select
    cast(month_date as date) as month_date,
    cast(grade as varchar) as grade,
    cast(loan_state as varchar) as loan_state,
    cast(count(*) as integer) as loans_count,
    cast(sum(outstanding_principal_cents) as bigint) as outstanding_principal_cents,
    {{ cents_to_dollars('sum(outstanding_principal_cents)') }} as outstanding_principal,
    cast(sum(charged_off_principal_cents) as bigint) as charged_off_principal_cents,
    {{ cents_to_dollars('sum(charged_off_principal_cents)') }} as charged_off_principal
from {{ ref('int_loan_month_states') }}
group by month_date, grade, loan_state
