-- Borrower payments per loan, settled ones only (a returned payment was reversed in the ledger). The rule
-- lives in the loan_payments_summed macro (dbt/macros/loans/loan_rollups.sql), which an incremental mart
-- also calls for just the loans it recomputes.
{{ loan_payments_summed() }}
