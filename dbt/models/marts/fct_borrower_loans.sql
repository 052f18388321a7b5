-- One row per loan: terms, funding, repayment progress and delinquency. Outstanding principal is the
-- ledger's loan_principal balance; principal repaid / interest paid are the borrower's payments.
with loans as (
    select * from {{ ref('stg_loans') }}
),

borrowers as (
    select user_id, username from {{ ref('stg_users') }}
),

payments as (
    select * from {{ ref('int_loan_payments_summed') }}
),

balances as (
    select * from {{ ref('int_loan_balances_summed') }}
),

delinquency as (
    select * from {{ ref('int_loan_delinquency') }}
),

final as (
    select
        loans.loan_id,
        loans.borrower_id,
        borrowers.username as borrower_username,
        loans.purpose,
        loans.grade,
        loans.status,
        loans.interest_rate_bps,
        loans.term_months,
        loans.amount_cents,
        loans.funded_amount_cents,
        loans.monthly_payment_cents,
        coalesce(payments.principal_repaid_cents, 0) as principal_repaid_cents,
        coalesce(payments.interest_paid_cents, 0) as interest_paid_cents,
        coalesce(payments.fees_paid_cents, 0) as fees_paid_cents,
        coalesce(balances.outstanding_principal_cents, 0) as outstanding_principal_cents,
        coalesce(payments.payments_count, 0) as payments_count,
        case when loans.status in ('current', 'grace', 'late_16_30', 'late_31_120') then delinquency.next_due_date end as next_due_date,
        case when loans.status in ('current', 'grace', 'late_16_30', 'late_31_120') then coalesce(delinquency.days_past_due, 0) else 0 end
            as days_past_due,
        loans.probability_of_default_ppm,
        loans.score_model_version,
        loans.created_at,
        loans.funded_at,
        loans.disbursed_at,
        loans.closed_at
    from loans
    left join borrowers on loans.borrower_id = borrowers.user_id
    left join payments on loans.loan_id = payments.loan_id
    left join balances on loans.loan_id = balances.loan_id
    left join delinquency on loans.loan_id = delinquency.loan_id
)

select
    cast(loan_id as bigint) as loan_id,
    cast(borrower_id as bigint) as borrower_id,
    cast(borrower_username as varchar) as borrower_username,
    cast(purpose as varchar) as purpose,
    cast(grade as varchar) as grade,
    cast(status as varchar) as status,
    {{ bps_to_percent('interest_rate_bps') }} as interest_rate,
    cast(term_months as integer) as term_months,
    cast(amount_cents as bigint) as amount_cents,
    {{ cents_to_dollars('amount_cents') }} as amount,
    cast(funded_amount_cents as bigint) as funded_amount_cents,
    {{ cents_to_dollars('funded_amount_cents') }} as funded_amount,
    cast(monthly_payment_cents as bigint) as monthly_payment_cents,
    {{ cents_to_dollars('monthly_payment_cents') }} as monthly_payment,
    cast(principal_repaid_cents as bigint) as principal_repaid_cents,
    {{ cents_to_dollars('principal_repaid_cents') }} as principal_repaid,
    cast(interest_paid_cents as bigint) as interest_paid_cents,
    {{ cents_to_dollars('interest_paid_cents') }} as interest_paid,
    cast(outstanding_principal_cents as bigint) as outstanding_principal_cents,
    {{ cents_to_dollars('outstanding_principal_cents') }} as outstanding_principal,
    cast(payments_count as integer) as payments_count,
    cast(next_due_date as date) as next_due_date,
    cast(created_at as timestamp) as created_at,
    cast(disbursed_at as timestamp) as disbursed_at,
    cast(interest_rate_bps as integer) as interest_rate_bps,
    cast(fees_paid_cents as bigint) as fees_paid_cents,
    {{ cents_to_dollars('fees_paid_cents') }} as fees_paid,
    cast(days_past_due as integer) as days_past_due,
    cast(days_past_due > 0 as boolean) as is_past_due,
    cast(status = 'charged_off' as boolean) as is_charged_off,
    {{ ppm_to_probability('probability_of_default_ppm') }} as probability_of_default,
    cast(score_model_version as varchar) as score_model_version,
    cast({{ dbt.date_trunc('month', 'disbursed_at') }} as date) as vintage_date,
    cast(funded_at as timestamp) as funded_at,
    cast(closed_at as timestamp) as closed_at
from final
