"""Dagster pipelines: extract the API's database into the DuckDB warehouse, then build it with dbt."""
