-- principal + interest + fees (+ recoveries and held excess) = payments, three ways: per loan in fct_borrower_loans (against the payments),
-- per month in fct_cash_flows_monthly (against the ledger's repayments into processor cash), and per payment
-- against its distributions to the notes (what the notes got is exactly the payment's principal and interest).
with per_loan as (
    -- recoveries and amounts paid beyond what was owed are not principal, interest or fees; a returned
    -- payment was reversed, so fct_borrower_loans (like the ledger) counts settled payments only
    select loan_id, sum(amount_cents - recovery_cents - excess_cents) as paid_cents
    from {{ ref('stg_payments') }} where payment_status = 'settled' group by loan_id
),

loan_mismatch as (
    select 'loan' as grain, cast(loans.loan_id as varchar) as id
    from {{ ref('fct_borrower_loans') }} as loans
    left join per_loan on loans.loan_id = per_loan.loan_id
    where loans.principal_repaid_cents + loans.interest_paid_cents + loans.fees_paid_cents
        <> coalesce(per_loan.paid_cents, 0)
),

not_split_by_month as (
    -- recoveries after charge-off and amounts held for the borrower reach processor cash as repayments too
    select
        cast({{ dbt.date_trunc('month', 'payment_date') }} as date) as month_date,
        sum(recovery_cents + excess_cents) as cents
    from {{ ref('stg_payments') }}
    group by 1
),

month_mismatch as (
    select 'month' as grain, cast(flows.month_date as varchar) as id
    from {{ ref('fct_cash_flows_monthly') }} as flows
    left join not_split_by_month on flows.month_date = not_split_by_month.month_date
    where flows.principal_repaid_cents + flows.interest_repaid_cents + flows.fees_cents
        + coalesce(not_split_by_month.cents, 0) <> flows.repayments_cents
),

distributed as (
    select payment_id, sum(principal_cents) as principal_cents, sum(interest_cents) as interest_cents
    from {{ ref('stg_payment_distributions') }}
    group by payment_id
),

payment_mismatch as (
    select 'payment' as grain, cast(payments.payment_id as varchar) as id
    from {{ ref('stg_payments') }} as payments
    left join distributed on payments.payment_id = distributed.payment_id
    where payments.principal_cents <> coalesce(distributed.principal_cents, 0)
       or payments.interest_cents <> coalesce(distributed.interest_cents, 0)
)

select * from loan_mismatch
union all select * from month_mismatch
union all select * from payment_mismatch
