"""The dbt project, its reconciliation with the API's database, and the published snapshot."""
