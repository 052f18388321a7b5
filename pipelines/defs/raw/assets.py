"""One asset per allow-listed API table, `raw/<table>`, loaded by a single multi-asset that reads every
selected table in one source snapshot, so the warehouse holds a consistent cut (no ledger entry without
its transaction). Each asset carries a `matches_source` check, computed in that same snapshot. Which
tables and columns are copied, which are masked and how each loads incrementally is
`pipelines.lib.extract` (EXTRACT, LOAD_MODES)."""

from typing import Any

import dagster as dg
import duckdb

from pipelines.lib.extract import (
    APPEND_ONLY_TABLES,
    EVERYTHING_CHANGED,
    EXTRACT,
    LOAD_MODES,
    RAW_SCHEMA,
    ById,
    Derived,
    accounts_off_postings,
    drop_unlisted,
    load_order,
    load_table,
    record_run,
    source_tables,
    unbalanced_ledger,
)
from pipelines.lib.publish import built_generation
from pipelines.lib.resources import SourceDatabase, Warehouse

GROUP = "raw"
TABLES = source_tables()


def raw_key(table: str) -> dg.AssetKey:
    return dg.AssetKey([RAW_SCHEMA, table])


def _description(name: str) -> str:
    mode = LOAD_MODES[name]
    how = (
        "Append-only: loaded incrementally past the primary-key high-water mark."
        if isinstance(mode, ById)
        else f"Mutable: loaded incrementally past the `{mode.column}` watermark, upserted by primary key."
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
    """Reload every table from scratch (e.g. after `matches_source` failed)."""


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            raw_key(name),
            group_name=GROUP,
            description=_description(name),
            kinds={"duckdb", "polars"},
            metadata={"load_mode": "append_only" if name in APPEND_ONLY_TABLES else "mutable"},
        )
        for name in TABLES
    ],
    check_specs=[
        *(
            dg.AssetCheckSpec(
                "matches_source",
                asset=raw_key(name),
                blocking=True,
                description="The warehouse holds exactly as many rows as the source, counted in the same snapshot.",
            )
            for name in TABLES
        ),
        dg.AssetCheckSpec(
            "ledger_balanced",
            asset=raw_key("ledger_entries"),
            blocking=True,
            description="Every ledger transaction's postings, and the whole ledger, sum to zero.",
        ),
        dg.AssetCheckSpec(
            "balances_match_postings",
            asset=raw_key("ledger_accounts"),
            blocking=True,
            additional_deps=[raw_key("ledger_entries")],
            description="Every ledger account's stored balance equals the sum of its postings.",
        ),
    ],
    can_subset=True,
)
def raw_tables(context: dg.AssetExecutionContext, config: ExtractConfig, source: SourceDatabase, warehouse: Warehouse):
    """Copy the selected API tables into the warehouse's `raw` schema (one source snapshot per run)."""
    selected = load_order(name for name in TABLES if raw_key(name) in context.selected_asset_keys)
    checks = context.selected_asset_check_keys
    with source.snapshot() as snap, warehouse.connect() as duck:
        dropped = drop_unlisted(duck)
        if dropped:
            context.log.warning(f"dropped from {RAW_SCHEMA}, no longer on the extract allow-list: {dropped}")
        changed = 0
        changed_tables = [EVERYTHING_CHANGED] if dropped or config.full_refresh else []
        for name in selected:
            result = load_table(snap, duck, TABLES[name], full_refresh=config.full_refresh)
            changed += result.rows_inserted + result.rows_updated
            if result.rows_inserted or result.rows_updated:
                changed_tables.append(name)
            context.log.debug(
                f"{name}: {result.mode}, read {result.rows_read}, inserted {result.rows_inserted}, updated "
                f"{result.rows_updated}, {result.warehouse_rows} rows, {result.seconds:.2f} s"
            )
            key = raw_key(name)
            yield dg.MaterializeResult(
                asset_key=key,
                metadata={
                    "load_mode": result.mode,
                    "rows_read": result.rows_read,
                    "rows_inserted": result.rows_inserted,
                    "rows_updated": result.rows_updated,
                    "row_count": result.warehouse_rows,
                    "high_water_mark": result.high_water_mark,
                    "seconds": round(result.seconds, 3),
                },
            )
            if dg.AssetCheckKey(key, "matches_source") in checks:
                yield dg.AssetCheckResult(
                    asset_key=key,
                    check_name="matches_source",
                    passed=result.matches_source,
                    metadata={"warehouse_rows": result.warehouse_rows, "source_rows": result.source_rows},
                )
        generation = record_run(duck, changed + len(dropped), changed_tables)
        # The ledger checks read every raw posting (5 s at 1M loans). When the raw tables are still those of the
        # published build (same generation), that build passed them (they block it), so their result stands.
        published = built_generation(duck)
        held = published is not None and generation == published
        for key, name, run_check in LEDGER_CHECKS:
            if key in context.selected_asset_keys and dg.AssetCheckKey(key, name) in checks:
                if held:
                    yield dg.AssetCheckResult(
                        asset_key=key,
                        check_name=name,
                        passed=True,
                        metadata={"result_of_generation": generation, "raw_unchanged_since_published_build": True},
                    )
                else:
                    passed, metadata = run_check(duck)
                    yield dg.AssetCheckResult(asset_key=key, check_name=name, passed=passed, metadata=metadata)
        context.log.info(f"extracted {len(selected)} tables, {changed} rows new or changed (generation {generation})")


def _ledger_balanced(duck: duckdb.DuckDBPyConnection) -> tuple[bool, dict[str, Any]]:
    total, unbalanced = unbalanced_ledger(duck)
    return total == 0 and unbalanced == 0, {"ledger_total_cents": total, "unbalanced_transactions": unbalanced}


def _balances_match_postings(duck: duckdb.DuckDBPyConnection) -> tuple[bool, dict[str, Any]]:
    checked, off = accounts_off_postings(duck)
    return not off, {"accounts_checked": checked, "first_mismatches": dg.MetadataValue.json(off[:20])}


# the checks over the whole raw ledger: (asset, check, what computes it)
LEDGER_CHECKS = (
    (raw_key("ledger_entries"), "ledger_balanced", _ledger_balanced),
    (raw_key("ledger_accounts"), "balances_match_postings", _balances_match_postings),
)
