{{ config(materialized='incremental', unique_key='loan_id', incremental_strategy='delete+insert',
    on_schema_change='append_new_columns') }}
-- depends_on: {{ ref('stg_installments') }}, {{ ref('stg_payments') }}, {{ ref('stg_ledger_transactions') }}
-- depends_on: {{ ref('int_ledger_entries_joined') }}, {{ ref('fct_ledger_account_balances') }}, {{ ref('int_installments_flagged') }}
-- One row per loan: terms, funding, repayment progress and delinquency. Outstanding principal is the
-- ledger's loan_principal balance; principal repaid / interest paid are the borrower's payments.
-- Incremental: on the published build's platform day, a run recomputes only the loans with an input
-- changed since that build (changed_loans) and replaces their rows; any other loan has the inputs it had
-- then, so its row would be the same. Loans are never deleted. On a new platform day (days past due
-- move), without a published build, or on `--full-refresh`, every loan is recomputed: the same rows a full
-- build makes (tests/pipelines checks the equivalence).
{% set narrow = is_incremental() and published_platform_day_is_current() %}
{% set floors = {
    'entries': published_mark('ledger_entries'), 'transactions': published_mark('ledger_transactions'),
    'loans': published_stamp('loans'), 'installments': published_stamp('installments'),
} if narrow else {} %}
{% set narrow = narrow and none not in floors.values() %}
with
{% if narrow %}
changed_loans as (
    select loan_id from {{ ref('stg_loans') }} where updated_at >= {{ floors['loans'] }}
    union
    select loan_id from {{ ref('stg_installments') }} where updated_at >= {{ floors['installments'] }}
    union
    -- a payment made, returned or re-allocated since: each is a ledger transaction naming the payment (payments
    -- may change after insert, so the raw table has no mark of its own)
    select payments.loan_id
    from {{ ref('stg_payments') }} as payments
    inner join {{ ref('stg_ledger_transactions') }} as transactions on payments.payment_id = transactions.payment_id
    where transactions.transaction_id > {{ floors['transactions'] }}
    union
    select loan_id from {{ ref('int_ledger_entries_joined') }}
    where entry_id > {{ floors['entries'] }} and loan_id is not null
    union
    -- a new loan, or a borrower renamed (the one column from users: compared, not found by stamp, since
    -- a bulk change stamps many users at once and the look-back would take them all)
    select loans.loan_id
    from {{ ref('stg_loans') }} as loans
    left join {{ this }} as built on loans.loan_id = built.loan_id
    left join {{ ref('stg_users') }} as users on loans.borrower_id = users.user_id
    where built.loan_id is null or users.username is distinct from built.borrower_username
),
{% endif %}

loans as (
    select * from {{ ref('stg_loans') }}
    {% if narrow %}where loan_id in (select loan_id from changed_loans){% endif %}
),

borrowers as (
    select user_id, username from {{ ref('stg_users') }}
),

{#- narrowed, the rollups read only the changed loans' rows: the macros behind the int_ views (see there) -#}
{% set changed = 'select loan_id from changed_loans' %}
payments as (
    {% if narrow %}{{ loan_payments_summed(changed) }}{% else %}select * from {{ ref('int_loan_payments_summed') }}{% endif %}
),

balances as (
    {% if narrow %}{{ loan_balances_summed(changed) }}{% else %}select * from {{ ref('int_loan_balances_summed') }}{% endif %}
),

delinquency as (
    {% if narrow %}{{ loan_delinquency(changed) }}{% else %}select * from {{ ref('int_loan_delinquency') }}{% endif %}
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
