"""The dbt project and the checks that reconcile its marts with the source ledger."""
