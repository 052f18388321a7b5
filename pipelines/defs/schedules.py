"""The job that refreshes the whole warehouse, the sensor that keeps it fresh, a nightly schedule, and the
nightly reconciliation of the API's books.

The sensor (`warehouse_freshness_sensor`, on by default) asks the API's database every 30 s for a cheap
fingerprint (one indexed max() per table, `pipelines.lib.freshness`) and requests an incremental run of
`warehouse_job` when it changed, so what a user does through the API reaches the dashboards within a
minute. It never queues a second run while one is in flight (DuckDB has one writer, and the next run
picks up everything the running one missed). It needs the Dagster daemon:
`DAGSTER_HOME=data/dagster_home uv run dagster-daemon run -m pipelines.definitions`.
"""

import dagster as dg

from api.settings import get_settings
from pipelines.lib.freshness import source_fingerprint

# The books' own reconciliation (`ledger_reconciliation`: every posting, note and loan of the API's database,
# 4 min 31 s at 1,000,000 loans) is the nightly close, not part of every refresh: a refresh's own checks
# reconcile the warehouse with the source, and the worker's daily `reconcile` job runs the same proof.
BOOKS_RECONCILIATION = dg.AssetSelection.groups("servicing")

warehouse_job = dg.define_asset_job(
    "warehouse_job",
    selection=dg.AssetSelection.all(include_sources=False) - BOOKS_RECONCILIATION,
    # the run log at INFO: one line per step and per check outcome, not Dagster's per-output DEBUG events
    config={"loggers": {"console": {"config": {"log_level": "INFO"}}}},
    description=(
        "Extract every API table into raw (incrementally), dbt build staging, intermediate, snapshots and "
        "marts with all checks, reconcile with the source, publish the read-only snapshot."
    ),
)

warehouse_schedule = dg.ScheduleDefinition(
    name="warehouse_schedule",
    job=warehouse_job,
    cron_schedule="15 2 * * *",
    execution_timezone="UTC",
    description="Daily at 02:15 UTC, also when nothing changed (the date moves: ages, lateness, daily status).",
)

ledger_reconciliation_job = dg.define_asset_job(
    "ledger_reconciliation_job",
    selection=BOOKS_RECONCILIATION,
    config={"loggers": {"console": {"config": {"log_level": "INFO"}}}},
    description="The API's books reconciled (ledger, notes, servicing, processor settlement report); its check "
    "fails on any difference.",
)

ledger_reconciliation_schedule = dg.ScheduleDefinition(
    name="ledger_reconciliation_schedule",
    job=ledger_reconciliation_job,
    cron_schedule="45 1 * * *",
    execution_timezone="UTC",
    description="Daily at 01:45 UTC, after the day's servicing and processor settlement.",
)

_IN_FLIGHT = [
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
    dg.DagsterRunStatus.CANCELING,
]


@dg.sensor(
    job=warehouse_job,
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Runs warehouse_job when the API's database changed since the last run it requested.",
)
def warehouse_freshness_sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult | dg.SkipReason:
    in_flight = context.instance.get_runs(
        filters=dg.RunsFilter(job_name=warehouse_job.name, statuses=_IN_FLIGHT), limit=1
    )
    if in_flight:
        return dg.SkipReason(f"run {in_flight[0].run_id} is still in flight")
    fingerprint = source_fingerprint(get_settings().database_url)
    if fingerprint == context.cursor:
        return dg.SkipReason("the API's database has not changed")
    return dg.SensorResult(run_requests=[dg.RunRequest(run_key=fingerprint)], cursor=fingerprint)
