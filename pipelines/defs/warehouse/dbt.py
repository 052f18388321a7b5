"""Every dbt model, seed and test of `dbt/` as Dagster assets and asset checks (one `dbt build`)."""

import json
from collections.abc import Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource, dbt_assets

from pipelines.lib.dbt_project import dbt_project, ensure_manifest
from pipelines.lib.resources import Warehouse

_LAYERS = ("staging", "intermediate", "marts")


class PeerlendDbtTranslator(DagsterDbtTranslator):
    """Models keep their name as asset key; the group is their layer. Sources map to `raw/<table>`
    (dagster-dbt's default `[source_name, table]`), the keys of the extract assets."""

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        fqn = dbt_resource_props.get("fqn", [])
        for layer in _LAYERS:
            if layer in fqn:
                return layer
        return super().get_group_name(dbt_resource_props)


@dbt_assets(
    manifest=ensure_manifest(dbt_project),
    project=dbt_project,
    dagster_dbt_translator=PeerlendDbtTranslator(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True)),
)
def warehouse_dbt_assets(context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: Warehouse):
    """`dbt build` of the selected models: staging views, intermediate views, contracted mart tables,
    with their tests as asset checks. The warehouse path comes from the `warehouse` resource."""
    dbt_vars = json.dumps({"warehouse_path": str(warehouse.resolved_path())})
    yield from dbt.cli(["build", "--vars", dbt_vars], context=context).stream()
