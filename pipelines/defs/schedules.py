"""The job that refreshes the whole warehouse, and its daily schedule."""

import dagster as dg

warehouse_job = dg.define_asset_job(
    "warehouse_job",
    selection=dg.AssetSelection.all(include_sources=False),
    description="Extract every API table into raw, then dbt build staging, intermediate and marts, with all checks.",
)

warehouse_schedule = dg.ScheduleDefinition(
    name="warehouse_schedule",
    job=warehouse_job,
    cron_schedule="15 2 * * *",
    execution_timezone="UTC",
    description="Daily at 02:15 UTC.",
)
