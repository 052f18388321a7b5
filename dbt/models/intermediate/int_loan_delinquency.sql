-- Each disbursed loan's delinquency as of the build's platform day: the oldest past-due installment and how
-- many days it is late (0 when nothing is past due). The rule lives in the loan_delinquency macro
-- (dbt/macros/loans/loan_rollups.sql), which an incremental mart also calls for just the loans it recomputes.
{{ loan_delinquency() }}
