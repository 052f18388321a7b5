"""Loan servicing wired into the database: payments through the replay (api/payments/servicing.py), the daily
job (dues, grace, late fees, buckets, charge-off), recoveries and the reconciliation job. docs/servicing.md."""
