"""One asset per allow-listed API table, `raw/<table>`, loaded by a single multi-asset that reads every
selected table in one source snapshot, so the warehouse holds a consistent cut (no ledger entry without
its transaction). Each asset carries a `matches_source` check, computed in that same snapshot. Which
tables and columns are copied, which are masked and how each loads incrementally is
`pipelines.lib.extract` (EXTRACT, LOAD_MODES)."""

from typing import Any

import dagster as dg
import duckdb
import sqlalchemy as sa

from api.kit import clock
from pipelines.lib.extract import (
    APPEND_ONLY_TABLES,
    EVERYTHING_CHANGED,
    EXTRACT,
    LOAD_MODES,
    LOOKBACK_IDS,
    LOOKBACK_UPDATED,
    RAW_SCHEMA,
    ById,
    Derived,
    LedgerWindow,
    LoadResult,
    accounts_off_postings,
    drop_unlisted,
    extracted_on,
    load_order,
    load_table,
    record_run,
    source_tables,
    unbalanced_ledger,
)
from pipelines.lib.extract import generation as generation_of
from pipelines.lib.publish import built_generation, built_id, published_mark, published_stamp
from pipelines.lib.resources import SourceDatabase, Warehouse

GROUP = "raw"
TABLES = source_tables()
LEDGER_ENTRY_ID = TABLES["ledger_entries"].c.entry_id
# metadata of every raw materialization: whether the run found the published snapshot current
PUBLISHED_CURRENT = "published_snapshot_current"


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
    with source.snapshot() as snap:
        current = "a full refresh" if config.full_refresh else _published_is_current(snap, warehouse, selected)
        if isinstance(current, str):
            context.log.debug(f"extracting into the work file: {current}")
        else:
            # Nothing in the source is new to the published snapshot: the work file (an older snapshot since
            # the last publish, see pipelines.lib.publish) is left for a run that has something to build.
            generation, results = current
            yield from _results(results, checks, published_current=True)
            yield from _held_ledger_checks(context, generation)
            context.log.info(f"nothing new since the published snapshot (generation {generation}); work file untouched")
            return
        with warehouse.connect() as duck:
            yield from _extract(context, config, snap, duck, selected)


def _extract(
    context: dg.AssetExecutionContext,
    config: ExtractConfig,
    snap: Any,
    duck: duckdb.DuckDBPyConnection,
    selected: list[str],
):
    checks = context.selected_asset_check_keys
    # the platform day's first run checks the whole raw ledger, later runs what changed since the published
    # build (ledger_window): as the extract counts every row on the day's first run only
    first_run_today = extracted_on(duck) != clock.today()
    dropped = drop_unlisted(duck)
    if dropped:
        context.log.warning(f"dropped from {RAW_SCHEMA}, no longer on the extract allow-list: {dropped}")
    changed = 0
    changed_tables = [EVERYTHING_CHANGED] if dropped or config.full_refresh else []
    results = []
    for name in selected:
        result = load_table(snap, duck, TABLES[name], full_refresh=config.full_refresh)
        changed += result.rows_inserted + result.rows_updated
        if result.rows_inserted or result.rows_updated:
            changed_tables.append(name)
        context.log.debug(
            f"{name}: {result.mode}, read {result.rows_read}, inserted {result.rows_inserted}, updated "
            f"{result.rows_updated}, {result.warehouse_rows} rows, {result.seconds:.2f} s"
        )
        results.append(result)
    yield from _results(results, checks, published_current=False)
    generation = record_run(duck, changed + len(dropped), changed_tables)
    # The ledger checks over every raw posting take 4 s at 1M loans. When the raw tables are still those of
    # the published build (same generation), that build passed them (they block it), so their result
    # stands; otherwise they read only what changed since that build, except on the day's first run.
    published = built_generation(duck)
    if published is not None and generation == published:
        yield from _held_ledger_checks(context, generation)
    else:
        window = None if first_run_today or config.full_refresh or dropped else ledger_window(duck)
        for key, name, run_check in LEDGER_CHECKS:
            if key in context.selected_asset_keys and dg.AssetCheckKey(key, name) in checks:
                passed, metadata = run_check(duck, window)
                metadata["scope"] = "everything" if window is None else "changed since the published build"
                yield dg.AssetCheckResult(asset_key=key, check_name=name, passed=passed, metadata=metadata)
    context.log.info(f"extracted {len(selected)} tables, {changed} rows new or changed (generation {generation})")


def _results(results: list[LoadResult], checks: Any, *, published_current: bool):
    for result in results:
        key = raw_key(result.table)
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
                # read by the dbt step of the same run: nothing to build (warehouse_dbt_assets)
                PUBLISHED_CURRENT: published_current,
            },
        )
        if dg.AssetCheckKey(key, "matches_source") in checks:
            yield dg.AssetCheckResult(
                asset_key=key,
                check_name="matches_source",
                passed=result.matches_source,
                metadata={"warehouse_rows": result.warehouse_rows, "source_rows": result.source_rows},
            )


def _held_ledger_checks(context: dg.AssetExecutionContext, generation: int):
    for key, name, _ in LEDGER_CHECKS:
        if key in context.selected_asset_keys and dg.AssetCheckKey(key, name) in context.selected_asset_check_keys:
            yield dg.AssetCheckResult(
                asset_key=key,
                check_name=name,
                passed=True,
                metadata={"result_of_generation": generation, "raw_unchanged_since_published_build": True},
            )


def _published_is_current(snap: Any, warehouse: Warehouse, selected: list[str]) -> tuple[int, list[LoadResult]] | str:
    """(its generation, what a load of each selected table would do) when the published snapshot already
    holds everything the source has for them: a dry run of the extract against it writes nothing, on the
    same platform day. Otherwise why not, and whenever the work file holds the published build itself (then
    the extract into the work file finds the same at no extra cost)."""
    published = warehouse.resolved_path()
    if snap is None or not published.exists():
        return "no source or no published snapshot"
    work = warehouse.resolved_work_path()
    with warehouse.connect_published() as duck:
        build = built_id(duck)
        if work.exists() and build is not None:
            with duckdb.connect(str(work), read_only=True) as held:
                if built_id(held) == build:
                    return "the work file holds the published build"
        generation_now = generation_of(duck)
        if generation_now is None or generation_now != built_generation(duck):
            return "the published snapshot records no build of its generation"
        if extracted_on(duck) != clock.today():
            return "a new platform day"
        if drop_unlisted(duck, dry=True):
            return "raw holds what the allow-list no longer names"
        # most changes add postings: one look at the ledger's newest id settles those without a dry run
        ((newest,),) = duck.execute('select max(entry_id) from "raw".ledger_entries').fetchall()
        if "ledger_entries" in selected and snap.scalar(sa.select(sa.func.max(LEDGER_ENTRY_ID))) != newest:
            return "new ledger postings"
        results = []
        for name in selected:
            result = load_table(snap, duck, TABLES[name], dry=True)
            if result.whole or result.rows_inserted or result.rows_updated:
                return f"{name} changed"
            results.append(result)
    return generation_now, results


def ledger_window(duck: duckdb.DuckDBPyConnection) -> LedgerWindow | None:
    """The part of the raw ledger a published build has not checked, or None (no published build)."""
    mark = published_mark(duck, "ledger_entries")
    stamp = published_stamp(duck, "ledger_accounts")
    if mark is None or stamp is None:
        return None
    return LedgerWindow(entry_floor=int(mark) - LOOKBACK_IDS, stamp_floor=stamp - LOOKBACK_UPDATED)


def _ledger_balanced(duck: duckdb.DuckDBPyConnection, window: LedgerWindow | None) -> tuple[bool, dict[str, Any]]:
    total, unbalanced = unbalanced_ledger(duck, window)
    return total == 0 and unbalanced == 0, {"ledger_total_cents": total, "unbalanced_transactions": unbalanced}


def _balances_match_postings(
    duck: duckdb.DuckDBPyConnection, window: LedgerWindow | None
) -> tuple[bool, dict[str, Any]]:
    checked, off = accounts_off_postings(duck, window)
    return not off, {"accounts_checked": checked, "first_mismatches": dg.MetadataValue.json(off[:20])}


# the checks over the whole raw ledger: (asset, check, what computes it)
LEDGER_CHECKS = (
    (raw_key("ledger_entries"), "ledger_balanced", _ledger_balanced),
    (raw_key("ledger_accounts"), "balances_match_postings", _balances_match_postings),
)
