"""Resources, from the environment through api.settings (same code for SQLite + local DuckDB and PostgreSQL)."""

import dagster as dg
from dagster_dbt import DbtCliResource

from pipelines.lib.dbt_project import dbt_executable, dbt_project
from pipelines.lib.resources import SourceDatabase, Warehouse


@dg.definitions
def resources() -> dg.Definitions:
    return dg.Definitions(
        resources={
            "source": SourceDatabase(),
            "warehouse": Warehouse(),
            "dbt": DbtCliResource(project_dir=dbt_project, dbt_executable=dbt_executable()),
        }
    )
