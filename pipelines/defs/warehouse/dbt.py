"""Every dbt model, snapshot and test of `dbt/` as Dagster assets and asset checks, in ONE step that
builds, reconciles with the source, and publishes.

Why one step: the published snapshot (PEERLEND_WAREHOUSE_PATH) must only ever hold a warehouse that passed
every check, and whatever reads it downstream in the same run (the credit-model monitoring reads
marts.fct_borrower_loans from the published file) must see this run's build. So after `dbt build` succeeds
the step reconciles the work file with the API's database (`reconciles_with_source_ledger`,
`balances_match_source`: fail loudly, to the cent) and only then replaces the published file. A failed
test or reconciliation fails the step and leaves the previous snapshot in place.

The multi-asset is dagster-dbt's own (`build_dbt_specs`, as `@dbt_assets` builds it) with the two
reconciliation checks added, so dbt tests still arrive as asset checks. dbt itself runs in this process
(`pipelines.lib.dbt_runner`, dbt's `dbtRunner`), its results translated by dagster-dbt as before.

Incremental builds: a published build records the marks of what it covered (`raw._published_marks`, see
pipelines/lib/publish.py and dbt/macros/new_rows.sql); the next build's incremental ledger models recompute
only what has postings past them and the ledger's row-level tests read only those rows. A build of everything
drops the marks first, so it tests every row and recomputes every incremental model in full.
"""

import hashlib
import json
import os
from collections.abc import Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource
from dagster_dbt.asset_utils import DAGSTER_DBT_SELECT_METADATA_KEY, build_dbt_specs
from dagster_dbt.dbt_manifest import validate_manifest

from pipelines.lib import dbt_runner
from pipelines.lib.dbt_project import DBT_PROJECT_DIR, dbt_project, ensure_manifest
from pipelines.lib.extract import changed_since, generation
from pipelines.lib.publish import built_generation, clear_built_marks, record_built_generation
from pipelines.lib.reconcile import SourceRead, read_source, reconcile, reconcile_totals, warehouse_mark
from pipelines.lib.resources import WORK_PATH_ENV, SourceDatabase, Warehouse

_LAYERS = ("staging", "intermediate", "marts", "snapshots")
# dbt runs in the step's own process (pipelines.lib.dbt_runner: no interpreter start and dbt import per run,
# seconds on 2 cores). Set to 1 to run it as dagster-dbt's subprocess instead, e.g. to keep dbt's DuckDB
# memory out of the step's process at a scale where the two together would not fit.
DBT_SUBPROCESS_ENV = "PEERLEND_DBT_SUBPROCESS"
PORTFOLIOS = dg.AssetKey(["marts", "fct_investor_portfolios"])
ACCOUNT_BALANCES = dg.AssetKey(["marts", "fct_ledger_account_balances"])


class PeerlendDbtTranslator(DagsterDbtTranslator):
    """Models keep their name as asset key; the group is their layer. Sources map to `raw/<table>`
    (dagster-dbt's default `[source_name, table]`), the keys of the extract assets."""

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props.get("resource_type") == "snapshot":
            return "snapshots"
        fqn = dbt_resource_props.get("fqn", [])
        for layer in _LAYERS:
            if layer in fqn:
                return layer
        return super().get_group_name(dbt_resource_props)


TRANSLATOR = PeerlendDbtTranslator(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True))
_SELECT = "fqn:*"


def _dbt_specs() -> tuple[list[dg.AssetSpec], list[dg.AssetCheckSpec]]:
    # a function, not module globals: `load_defs` collects every AssetSpec it finds in a module
    specs, checks = build_dbt_specs(
        translator=TRANSLATOR,
        manifest=validate_manifest(ensure_manifest(dbt_project)),
        select=_SELECT,
        exclude="",
        selector="",
        io_manager_key=None,
        project=dbt_project,
    )
    return list(specs), list(checks)


def reconciliation_checks() -> list[dg.AssetCheckSpec]:
    return [
        dg.AssetCheckSpec(
            "reconciles_with_source_ledger",
            asset=PORTFOLIOS,
            description=(
                "Up to the warehouse's ledger high-water mark, the source database's ledger has as many entries as "
                "the warehouse and balances to zero, and every investor's cash, committed, outstanding principal and "
                "interest received in the mart equal that investor's accounts in the source, to the cent."
            ),
        ),
        dg.AssetCheckSpec(
            "totals_match_source",
            asset=ACCOUNT_BALANCES,
            description=(
                "On every run, a rebuild or not: the API database's ledger totals per account kind (accounts and "
                "balance as of the warehouse's ledger high-water mark) and its outstanding principal (loan_principal "
                "and investor_notes) equal the warehouse's (fct_ledger_account_balances, fct_borrower_loans, "
                "fct_investor_notes), to the cent; two small aggregates on each side."
            ),
        ),
        dg.AssetCheckSpec(
            "balances_match_source",
            asset=ACCOUNT_BALANCES,
            description=(
                "Every ledger account's balance in the warehouse (the sum of its postings) equals the API's stored "
                "balance as of the warehouse's ledger high-water mark, to the cent."
            ),
        ),
    ]


def dbt_target_path(warehouse: Warehouse) -> Path:
    """One dbt target directory per work file, kept from run to run: dbt's partial parse state survives
    (a fresh directory per run, dagster-dbt's default, re-parses the project every time: seconds)."""
    digest = hashlib.sha256(str(warehouse.resolved_work_path()).encode()).hexdigest()[:10]
    return DBT_PROJECT_DIR / "target" / f"pipeline-{digest}"


@dg.multi_asset(
    name="warehouse_dbt_assets",
    specs=_dbt_specs()[0],
    check_specs=[*_dbt_specs()[1], *reconciliation_checks()],
    can_subset=True,
    op_tags={DAGSTER_DBT_SELECT_METADATA_KEY: _SELECT},
    allow_arbitrary_check_specs=True,
)
def warehouse_dbt_assets(
    context: dg.AssetExecutionContext, dbt: DbtCliResource, source: SourceDatabase, warehouse: Warehouse
):
    """`dbt build` of the selected models into the work file, the reconciliation checks, then the
    published snapshot. When the extract changed nothing since the snapshot that is published (same rows,
    same platform day), there is nothing to build: the step ends at once and every relation stays as it was."""
    if _extract_found_published_current(context):
        # This run's extract found nothing the published snapshot lacks; the work file (an older snapshot
        # since the last publish) was not touched, and the published snapshot is what is reconciled.
        with warehouse.connect_published() as duck:
            current = generation(duck)
        yield from _nothing_to_build(context, source, warehouse, current, published=True)
        return
    with warehouse.connect(read_only=True) as duck:
        current = generation(duck)
        built = built_generation(duck)
        changed = changed_since(duck, built) if warehouse.resolved_path().exists() else None
    if current is not None and current == built and warehouse.resolved_path().exists():
        yield from _nothing_to_build(context, source, warehouse, current, published=False)
        return
    # the profile reads the work path from the environment (see dbt/profiles.yml); no per-run --vars, so
    # dbt's partial parsing holds from one run to the next
    # Unit tests (hand-made inputs, the SQL's logic) run in the test suite, not on every load of real data.
    args = ["build", "--exclude-resource-type", "unit_test"]
    unchanged = _unaffected_nodes(changed)
    if unchanged:
        # Only what the changed raw tables feed (`source:raw.<table>+`) is rebuilt and tested; every other
        # relation holds what the published build made from the same rows. Excluded by name because
        # dagster-dbt adds its own `--select fqn:*`, which a second --select would only widen.
        context.log.info(f"raw tables changed since generation {built}: {changed}; rebuilding what they feed")
        args += ["--exclude", " ".join(unchanged)]
    ran: set[dg.AssetCheckKey] = set()
    if not unchanged:
        # a build of everything tests every row and rebuilds every incremental model that asks for a mark
        with warehouse.connect() as duck:
            clear_built_marks(duck)
    # The reconciliation's read of the source (every account, ~1.5 s at 1M loans) does not depend on what
    # dbt builds, only on raw's ledger mark, which dbt never moves: it runs beside the build.
    reading = ThreadPoolExecutor(max_workers=1, thread_name_prefix="reconcile-read")
    ahead = _read_source_ahead(context, reading, source, warehouse)
    previous = os.environ.get(WORK_PATH_ENV)
    os.environ[WORK_PATH_ENV] = str(warehouse.resolved_work_path())
    try:  # dbt reads the profile's path from the environment (a subprocess copies it when it starts)
        if os.environ.get(DBT_SUBPROCESS_ENV, "") in ("1", "true"):
            events = dbt.cli(args, context=context, target_path=dbt_target_path(warehouse)).stream()
        else:
            events = dbt_runner.build(
                args,
                context=context,
                project=dbt_project,
                translator=TRANSLATOR,
                target_path=dbt_target_path(warehouse),
                profiles_dir=dbt.profiles_dir,
            )
        for event in events:
            if isinstance(event, dg.AssetCheckResult | dg.AssetCheckEvaluation):
                ran.add(dg.AssetCheckKey(event.asset_key, event.check_name))
            yield event
    finally:
        if previous is None:
            os.environ.pop(WORK_PATH_ENV, None)
        else:
            os.environ[WORK_PATH_ENV] = previous
        reading.shutdown(wait=True)
    if unchanged:
        reconciliation = {spec.key for spec in reconciliation_checks()}
        for key in sorted(context.selected_asset_check_keys - ran - reconciliation, key=str):
            yield dg.AssetCheckResult(
                asset_key=key.asset_key,
                check_name=key.name,
                passed=True,
                metadata={"dbt_test_result_of_generation": built, "inputs_unchanged": True},
            )

    failed = yield from _reconcile(context, source, warehouse, ahead=None if ahead is None else ahead.result())
    if failed:
        raise dg.Failure(
            f"the warehouse does not reconcile with the API's database ({', '.join(failed)}); "
            "the published snapshot was left as it was",
        )
    if current is not None:
        with warehouse.connect() as duck:
            record_built_generation(duck, current)
    published = warehouse.publish()
    context.log.info(
        f"published {published.published} ({published.bytes / 2**20:.1f} MiB) in {published.seconds:.2f} s "
        f"(by {published.mode}; copy {published.copy_seconds:.2f} s)"
    )


def _extract_found_published_current(context: dg.AssetExecutionContext) -> bool:
    """Whether this run's extract (raw_tables) found the published snapshot holding everything the source has."""
    from pipelines.defs.raw.assets import PUBLISHED_CURRENT, RAW_SCHEMA

    flags = [
        event.asset_materialization.metadata[PUBLISHED_CURRENT].value
        for event in context.instance.all_logs(context.run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION)
        if event.asset_materialization is not None
        and event.asset_materialization.asset_key.path[0] == RAW_SCHEMA
        and PUBLISHED_CURRENT in event.asset_materialization.metadata
    ]
    return bool(flags) and all(flags)


def _nothing_to_build(
    context: dg.AssetExecutionContext,
    source: SourceDatabase,
    warehouse: Warehouse,
    current: int | None,
    *,
    published: bool,
):
    """The dbt relations and tests are what the published build made from these same rows (a build is only
    recorded once every test passed), so dbt's tests are reported from that build, saying so. The
    reconciliation with the API's database is not carried over: it reads the source again, now."""
    context.log.info(f"nothing changed since the published build (generation {current}); not rebuilding")
    reconciliation = {spec.key for spec in reconciliation_checks()}
    for key in sorted(context.selected_asset_check_keys, key=lambda k: (k.asset_key.to_user_string(), k.name)):
        if key in reconciliation:
            continue
        yield dg.AssetCheckResult(
            asset_key=key.asset_key,
            check_name=key.name,
            passed=True,
            metadata={"dbt_test_result_of_generation": current},
        )
    failed = yield from _reconcile(context, source, warehouse, published=published)
    if failed:
        raise dg.Failure(
            f"the warehouse no longer reconciles with the API's database ({', '.join(failed)}) although the "
            "extract found nothing new"
        )


def _read_source_ahead(
    context: dg.AssetExecutionContext, pool: ThreadPoolExecutor, source: SourceDatabase, warehouse: Warehouse
) -> Future[SourceRead] | None:
    """The reconciliation's source read at the work file's ledger mark, started on `pool`; None when no
    reconciliation check is selected."""
    if not [spec for spec in reconciliation_checks() if spec.key in context.selected_asset_check_keys]:
        return None
    with warehouse.connect(read_only=True) as duck:
        mark = warehouse_mark(duck)

    def read() -> SourceRead:
        with source.snapshot() as snap:
            return read_source(snap, mark)

    return pool.submit(read)


def _reconcile(
    context: dg.AssetExecutionContext,
    source: SourceDatabase,
    warehouse: Warehouse,
    *,
    published: bool = False,
    ahead: SourceRead | None = None,
):
    """Yield the selected reconciliation checks' results (the work file, or the published snapshot, against
    the API's database, read now or, as `ahead`, while dbt built) and return the names of those that failed."""
    selected = context.selected_asset_check_keys
    wanted = [spec for spec in reconciliation_checks() if spec.key in selected]
    failed: list[str] = []
    if not wanted:
        return failed
    opened = warehouse.connect_published() if published else warehouse.connect(read_only=True)
    with source.snapshot() as snap, opened as duck:
        result = reconcile(snap, duck, ahead=ahead)
        totals = reconcile_totals(snap, duck, read=result)
    outcome = {
        "reconciles_with_source_ledger": (
            result.investors_passed,
            {
                "high_water_mark": result.high_water_mark,
                "source_entries": result.source_entries,
                "warehouse_entries": result.warehouse_entries,
                "investors_checked": result.investors_checked,
                "investor_mismatches": dg.MetadataValue.json(result.investor_mismatches),
            },
        ),
        "balances_match_source": (
            result.ledger_passed,
            {
                "high_water_mark": result.high_water_mark,
                "source_entries": result.source_entries,
                "warehouse_entries": result.warehouse_entries,
                "source_total_cents": result.source_total_cents,
                "accounts_checked": result.accounts_checked,
                "account_mismatches": dg.MetadataValue.json(result.account_mismatches),
            },
        ),
        "totals_match_source": (
            totals.passed,
            {k: dg.MetadataValue.json(v) if isinstance(v, list | dict) else v for k, v in totals.metadata().items()},
        ),
    }
    for spec in wanted:
        passed, metadata = outcome[spec.name]
        if not passed:
            failed.append(spec.name)
        yield dg.AssetCheckResult(
            asset_key=spec.asset_key,
            check_name=spec.name,
            passed=passed,
            severity=dg.AssetCheckSeverity.ERROR,
            metadata=metadata,
        )
    return failed


def _unaffected_nodes(changed: list[str] | None) -> list[str]:
    """`fqn:` selectors of every dbt model, snapshot and test that none of the `changed` raw tables feeds
    (empty: build everything, when what changed is unknown)."""
    if not changed:
        return []
    manifest = json.loads(Path(ensure_manifest(dbt_project)).read_text())
    children: dict[str, list[str]] = manifest["child_map"]
    sources = [f"source.{manifest['metadata'].get('project_name', 'peerlend')}.raw.{name}" for name in changed]
    affected: set[str] = set()
    frontier = [s for s in sources if s in children]
    while frontier:
        node = frontier.pop()
        for child in children.get(node, []):
            if child not in affected:
                affected.add(child)
                frontier.append(child)
    return sorted(
        "fqn:" + ".".join(node["fqn"])
        for uid, node in manifest["nodes"].items()
        if node["resource_type"] in ("model", "snapshot", "test", "seed") and uid not in affected
    )
