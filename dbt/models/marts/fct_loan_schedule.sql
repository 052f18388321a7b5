-- One row per installment of every disbursed loan's amortization schedule, with its state by the API's
-- rule (installment_state; past due from the day after the due date, as of the build's platform day).
with installments as (
    select * from {{ ref('int_installments_flagged') }}
),

loans as (
    select loan_id, borrower_id from {{ ref('stg_loans') }}
)

select
    cast(installments.loan_id as bigint) as loan_id,
    cast(loans.borrower_id as bigint) as borrower_id,
    cast(installments.installment_number as integer) as installment_number,
    cast(installments.due_date as date) as due_date,
    cast(installments.payment_cents as bigint) as payment_cents,
    {{ cents_to_dollars('installments.payment_cents') }} as payment,
    cast(installments.principal_cents as bigint) as principal_cents,
    {{ cents_to_dollars('installments.principal_cents') }} as principal,
    cast(installments.interest_cents as bigint) as interest_cents,
    {{ cents_to_dollars('installments.interest_cents') }} as interest,
    cast(installments.balance_after_cents as bigint) as balance_after_cents,
    {{ cents_to_dollars('installments.balance_after_cents') }} as balance_after,
    cast(installments.paid_principal_cents as bigint) as paid_principal_cents,
    {{ cents_to_dollars('installments.paid_principal_cents') }} as paid_principal,
    cast(installments.paid_interest_cents as bigint) as paid_interest_cents,
    {{ cents_to_dollars('installments.paid_interest_cents') }} as paid_interest,
    cast(installments.is_paid as boolean) as is_paid,
    cast(installments.installment_id as bigint) as installment_id,
    cast(installments.installment_state as varchar) as installment_state,
    cast(installments.is_past_due as boolean) as is_past_due,
    cast(installments.days_past_due as integer) as days_past_due,
    cast(installments.paid_at as timestamp) as paid_at
from installments
inner join loans on installments.loan_id = loans.loan_id
