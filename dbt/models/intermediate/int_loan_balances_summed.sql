-- Each loan's ledger balances: principal still owed, interest paid through, collections not yet distributed,
-- and the principal originated (the disbursement). One row per loan with any posting. The rule lives in the
-- loan_balances_summed macro (dbt/macros/loans/loan_rollups.sql), which an incremental mart also calls for
-- just the loans it recomputes.
{{ loan_balances_summed() }}
