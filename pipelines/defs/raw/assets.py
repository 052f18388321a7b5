"""One asset per allow-listed API table, `raw/<table>`, loaded by a single multi-asset that reads every
selected table in one source snapshot, so the warehouse holds a consistent cut (no ledger entry without
its transaction). Each asset carries a `matches_source` check, computed in that same snapshot. Which
tables and columns are copied, and which are masked, is `pipelines.lib.extract.EXTRACT`."""

import dagster as dg

from pipelines.lib.extract import (
    APPEND_ONLY_TABLES,
    EXTRACT,
    RAW_SCHEMA,
    Derived,
    drop_unlisted,
    load_table,
    source_tables,
    unbalanced_ledger,
)
from pipelines.lib.resources import SourceDatabase, Warehouse

GROUP = "raw"
TABLES = source_tables()


def raw_key(table: str) -> dg.AssetKey:
    return dg.AssetKey([RAW_SCHEMA, table])


def _description(name: str) -> str:
    how = (
        "Append-only: loaded incrementally past the primary-key high-water mark."
        if name in APPEND_ONLY_TABLES
        else "Mutable: fully refreshed on every run."
    )
    masked = [e for e in EXTRACT[name] if isinstance(e, Derived) and e.compute is not None]
    mask = (
        "Masked: " + ", ".join(f"`{e.name}` computed from `{e.source}`, which is not stored" for e in masked) + "."
        if masked
        else ""
    )
    doc = (TABLES[name].comment or "").strip()
    return " ".join(part for part in (f"The API's `{name}` table in `{RAW_SCHEMA}.{name}`.", how, mask, doc) if part)


class ExtractConfig(dg.Config):
    full_refresh: bool = False
    """Reload append-only tables from scratch (e.g. after `matches_source` failed)."""


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            raw_key(name),
            group_name=GROUP,
            description=_description(name),
            kinds={"duckdb", "sqlalchemy"},
            metadata={"load_mode": "incremental" if name in APPEND_ONLY_TABLES else "full_refresh"},
        )
        for name in TABLES
    ],
    check_specs=[
        *(
            dg.AssetCheckSpec(
                "matches_source",
                asset=raw_key(name),
                blocking=True,
                description="The warehouse holds exactly the source's rows up to the high-water mark.",
            )
            for name in TABLES
        ),
        dg.AssetCheckSpec(
            "ledger_balanced",
            asset=raw_key("ledger_entries"),
            blocking=True,
            description="Every ledger transaction's postings, and the whole ledger, sum to zero.",
        ),
    ],
    can_subset=True,
)
def raw_tables(context: dg.AssetExecutionContext, config: ExtractConfig, source: SourceDatabase, warehouse: Warehouse):
    """Copy the selected API tables into the warehouse's `raw` schema (one source snapshot per run)."""
    selected = [name for name in TABLES if raw_key(name) in context.selected_asset_keys]
    checks = context.selected_asset_check_keys
    with source.snapshot() as conn, warehouse.connect() as duck:
        dropped = drop_unlisted(duck)
        if dropped:
            context.log.warning(f"dropped from {RAW_SCHEMA}, no longer on the extract allow-list: {dropped}")
        for name in selected:
            result = load_table(conn, duck, TABLES[name], full_refresh=config.full_refresh)
            context.log.info(
                f"{name}: {result.mode}, read {result.rows_read}, inserted {result.rows_inserted}, "
                f"{result.warehouse_rows} rows in the warehouse"
            )
            key = raw_key(name)
            yield dg.MaterializeResult(
                asset_key=key,
                metadata={
                    "load_mode": result.mode,
                    "rows_read": result.rows_read,
                    "rows_inserted": result.rows_inserted,
                    "row_count": result.warehouse_rows,
                    "high_water_mark": result.high_water_mark,
                },
            )
            if dg.AssetCheckKey(key, "matches_source") in checks:
                yield dg.AssetCheckResult(
                    asset_key=key,
                    check_name="matches_source",
                    passed=result.matches_source,
                    metadata={"warehouse_rows": result.warehouse_rows, "source_rows": result.source_rows},
                )
            if name == "ledger_entries" and dg.AssetCheckKey(key, "ledger_balanced") in checks:
                total, unbalanced = unbalanced_ledger(duck)
                yield dg.AssetCheckResult(
                    asset_key=key,
                    check_name="ledger_balanced",
                    passed=total == 0 and unbalanced == 0,
                    metadata={"ledger_total_cents": total, "unbalanced_transactions": unbalanced},
                )
