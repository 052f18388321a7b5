{{ config(severity='warn') }}
-- For a disbursed loan, the ledger's outstanding principal = funded amount - principal the borrower paid.
-- A warning, not an error: it differs while a repayment waits to be distributed to the note holders
-- (loan_collections holds it) and after a charge-off.
select loan_id, funded_amount_cents, principal_repaid_cents, outstanding_principal_cents
from {{ ref('fct_borrower_loans') }}
where disbursed_at is not null
  and status not in ('charged_off')
  and outstanding_principal_cents <> funded_amount_cents - principal_repaid_cents
