"""The code location loads, names what the brief promises, and classifies every API table."""

from __future__ import annotations

import dagster as dg

from api.db.tables import Base
from pipelines.lib.extract import APPEND_ONLY_TABLES, EXCLUDED_COLUMNS, MUTABLE_TABLES, SKIPPED_TABLES, source_tables

MARTS = (
    "fct_borrower_loans",
    "fct_loan_schedule",
    "fct_investor_portfolios",
    "fct_investor_notes",
    "fct_platform_kpis_daily",
)


def test_definitions_load() -> None:
    from pipelines.definitions import defs

    graph = defs.resolve_asset_graph()
    keys = {k.to_user_string() for k in graph.get_all_asset_keys()}
    assert {f"raw/{name}" for name in source_tables()} <= keys
    assert {f"marts/{name}" for name in MARTS} <= keys
    # dbt sources are the extract assets: staging depends on raw
    assert dg.AssetKey(["raw", "loans"]) in graph.get(dg.AssetKey(["staging", "stg_loans"])).parent_keys
    groups = {graph.get(k).group_name for k in graph.get_all_asset_keys() if graph.get(k).is_materializable}
    assert groups == {"raw", "staging", "intermediate", "marts"}

    job = defs.resolve_job_def("warehouse_job")
    assert job.executor_def.name == dg.in_process_executor.name
    schedule = defs.resolve_schedule_def("warehouse_schedule")
    assert schedule.job_name == "warehouse_job"
    check_names = {k.name for k in graph.asset_check_keys}
    assert {"matches_source", "ledger_balanced", "reconciles_with_source_ledger"} <= check_names


def test_every_api_table_is_classified() -> None:
    names = {table.name for table in Base.metadata.sorted_tables}
    assert names == set(APPEND_ONLY_TABLES) | set(MUTABLE_TABLES) | SKIPPED_TABLES
    assert not set(APPEND_ONLY_TABLES) & set(MUTABLE_TABLES)
    assert EXCLUDED_COLUMNS["users"] == {"email", "password_hash"}
