-- Schedule rows with their state by the API's one rule (api/payments/schedule.py): `installment_state`
-- is paid when everything due is paid, partial when some of it is, due otherwise; `is_past_due` from the
-- day AFTER the due date (paying on the due date is on time), as of the build's platform day.
-- tests/pipelines compares both with the API's functions on every installment.
with installments as (
    select
        *,
        principal_cents + interest_cents as due_cents,
        paid_principal_cents + paid_interest_cents as paid_cents
    from {{ ref('stg_installments') }}
),

flagged as (
    select
        *,
        case when paid_cents >= due_cents then 'paid' when paid_cents > 0 then 'partial' else 'due' end
            as installment_state,
        (due_date < {{ as_of_date() }} and paid_cents < due_cents) as is_past_due
    from installments
)

select
    installment_id,
    loan_id,
    installment_number,
    due_date,
    payment_cents,
    principal_cents,
    interest_cents,
    balance_after_cents,
    paid_principal_cents,
    paid_interest_cents,
    paid_at,
    updated_at,
    due_cents,
    paid_cents,
    installment_state,
    (installment_state = 'paid') as is_paid,
    is_past_due,
    case when is_past_due then {{ dbt.datediff('due_date', as_of_date(), 'day') }} else 0 end as days_past_due
from flagged
