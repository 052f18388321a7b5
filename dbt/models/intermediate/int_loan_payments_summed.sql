-- Borrower payments per loan, settled ones only (a returned payment was reversed in the ledger).
select
    loan_id,
    cast(sum(principal_cents) as bigint) as principal_repaid_cents,
    cast(sum(interest_cents) as bigint) as interest_paid_cents,
    cast(sum(fees_cents) as bigint) as fees_paid_cents,
    cast(sum(amount_cents) as bigint) as repaid_cents,
    cast(count(*) as integer) as payments_count,
    max(payment_date) as last_payment_date
from {{ ref('stg_payments') }}
where payment_status = 'settled'
group by loan_id
