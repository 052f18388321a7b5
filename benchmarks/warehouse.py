"""The warehouse at scale: a cloned book (pipelines.clone) through the whole pipeline, with row counts,
times, peak memory, and ratios against a same-run baseline.

    uv run python benchmarks/warehouse.py --loans 1000000            # SQLite (the embedded default)
    uv run python benchmarks/warehouse.py --loans 20000 --postgres   # the same on PostgreSQL

Steps, each timed:
1. the source: a clone of --loans loans written into a fresh database (cached under --dir for SQLite);
2. baseline: a plain ADBC read of exactly the extracted columns of every table into Arrow, nothing else
   (what moving the rows costs at best), and the extract's ratio to it;
3. full build: extract + dbt build + reconciliation + publish, from an empty warehouse;
4. incremental: 10,000 new events in the source (deposits: a cash transfer, a balanced ledger transaction
   of two postings and two account balances each), then a run;
5. no change: a run with nothing new;
6. incremental again, as in steady state: the work file is then an older snapshot (pipelines.lib.publish),
   which the run brings up to date.
Targets (2 cores): full build under 3 minutes and 8 GiB, incremental under 15 s, no change under 10 s.
Each run reports its wall time (`seconds`), its steps, and `warehouse_seconds`: the extract and dbt steps alone.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import dagster as dg  # noqa: E402
import sqlalchemy as sa  # noqa: E402

from api.kit import clock  # noqa: E402
from pipelines import clone  # noqa: E402
from pipelines.defs.schedules import BOOKS_RECONCILIATION  # noqa: E402
from pipelines.lib import extract  # noqa: E402
from pipelines.lib.publish import retired_dir  # noqa: E402

AS_OF = datetime(2026, 11, 30, 18, tzinfo=UTC)
EVENTS = 10_000


def peak_rss_gib() -> tuple[float, float]:
    """(this process, the largest child: dbt) peak resident memory in GiB."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 2**20
    return own, children


def source_rows(url: str) -> dict[str, int]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return {
                name: int(conn.execute(sa.text(f"select count(*) from {name}")).scalar_one())
                for name in extract.source_tables()
            }
    finally:
        engine.dispose()


def baseline_read(url: str) -> float:
    """Seconds to read the extracted columns of every table into Arrow through ADBC, and nothing else."""
    started = time.perf_counter()
    with extract.open_snapshot(url) as snap:
        assert snap is not None
        for table in extract.source_tables().values():
            columns = extract.extracted_columns(table)
            query = sa.select(*[c.source.label(f"c{i}") for i, c in enumerate(columns)])
            for _ in snap.batches(query, [extract._source_expr_type(c).sql_type for c in columns]):
                pass
    return time.perf_counter() - started


def add_deposits(url: str, count: int, when: datetime) -> None:
    """`count` investor deposits, as the API records them: a cash transfer, a deposit transaction posting
    processor_cash +a / investor_cash -a, and both accounts' balances moved, all in one transaction."""
    engine = sa.create_engine(url)
    stamp = when.replace(tzinfo=None)
    with engine.begin() as conn:
        investors = [
            r[0] for r in conn.execute(sa.text(f"select investor_id from investors order by investor_id limit {count}"))
        ]
        accounts = {
            (r[0], r[1]): r[2]
            for r in conn.execute(
                sa.text(
                    "select account_type, owner_id, account_id from ledger_accounts where account_type in "
                    "('processor_cash', 'investor_cash')"
                )
            )
        }
        users = dict(conn.execute(sa.text("select investor_id, user_id from investors")).all())
        transfer_id = int(
            conn.execute(sa.text("select coalesce(max(transfer_id), 0) from cash_transfers")).scalar_one()
        )
        txn_id = int(
            conn.execute(sa.text("select coalesce(max(transaction_id), 0) from ledger_transactions")).scalar_one()
        )
        entry_id = int(conn.execute(sa.text("select coalesce(max(entry_id), 0) from ledger_entries")).scalar_one())
        transfers, txns, entries, deltas = [], [], [], {}
        for i in range(count):
            investor = investors[i % len(investors)]
            amount = 10_000 + 2_500 * (i % 7)
            transfer_id += 1
            txn_id += 1
            transfers.append(
                {"t": transfer_id, "u": users[investor], "a": amount, "r": f"bench-{uuid.uuid4().hex[:12]}", "c": stamp}
            )
            txns.append({"x": txn_id, "t": transfer_id, "c": stamp})
            for account, signed in (
                (accounts[("processor_cash", 0)], amount),
                (accounts[("investor_cash", investor)], -amount),
            ):
                entry_id += 1
                entries.append({"e": entry_id, "x": txn_id, "a": account, "m": signed})
                deltas[account] = deltas.get(account, 0) + signed
        conn.execute(
            sa.text(
                "insert into cash_transfers (transfer_id, user_id, direction, amount_cents, processor_reference, "
                "created_at) values (:t, :u, 'deposit', :a, :r, :c)"
            ),
            transfers,
        )
        conn.execute(
            sa.text(
                "insert into ledger_transactions (transaction_id, kind, transfer_id, description, created_at) "
                "values (:x, 'deposit', :t, 'benchmark deposit', :c)"
            ),
            txns,
        )
        conn.execute(
            sa.text(
                "insert into ledger_entries (entry_id, transaction_id, account_id, amount_cents) "
                "values (:e, :x, :a, :m)"
            ),
            entries,
        )
        conn.execute(
            sa.text(
                "update ledger_accounts set balance_cents = balance_cents + :d, updated_at = :c where account_id = :a"
            ),
            [{"a": a, "d": d, "c": stamp} for a, d in deltas.items()],
        )
    engine.dispose()


def slowest_dbt_nodes(published: Path, since: float, count: int = 10) -> dict[str, float] | None:
    """The `count` slowest nodes of the dbt invocation in this run (run_results.json of the work file's
    target directory), or None when dbt did not run."""
    from pipelines.defs.warehouse.dbt import dbt_target_path
    from pipelines.lib.resources import Warehouse

    results = dbt_target_path(Warehouse(path=str(published))) / "run_results.json"
    if not results.exists() or results.stat().st_mtime < since:
        return None
    nodes = json.loads(results.read_text())["results"]
    ranked = sorted(nodes, key=lambda n: -float(n.get("execution_time") or 0))[:count]
    return {n["unique_id"].split(".", 2)[-1]: round(float(n["execution_time"]), 2) for n in ranked}


def run_pipeline(url: str, published: Path, when: datetime) -> dict[str, Any]:
    from pipelines.definitions import defs
    from pipelines.lib.resources import SourceDatabase, Warehouse

    resources = dict(defs.resources or {})
    resources["source"] = SourceDatabase(url=url)
    resources["warehouse"] = Warehouse(path=str(published))
    started = time.perf_counter()
    started_at = time.time()
    with dg.DagsterInstance.ephemeral() as instance, clock.frozen_at(when):
        result = dg.materialize(
            [*defs.assets, *defs.asset_checks],  # type: ignore[list-item]
            resources=resources,
            instance=instance,
            raise_on_error=False,
            # what `warehouse_job` refreshes: not the credit model, nor the books' nightly reconciliation
            selection=dg.AssetSelection.all() - dg.AssetSelection.groups("credit_model") - BOOKS_RECONCILIATION,
        )
        stats = instance.get_run_step_stats(result.run_id)
        logs = [e.user_message for e in instance.all_logs(result.run_id) if e.user_message]
    seconds = time.perf_counter() - started
    step_seconds = {s.step_key: round((s.end_time or 0) - (s.start_time or 0), 1) for s in stats}
    failed = [
        (e.asset_key.to_user_string(), e.check_name) for e in result.get_asset_check_evaluations() if not e.passed
    ]
    loaded = {
        m.asset_key.path[1]: {k: v.value for k, v in m.metadata.items()}
        for m in result.asset_materializations_for_node("raw_tables")
    }
    publish_line = next((m for m in logs if m.startswith("published ")), None)
    extract_seconds = sorted(((k, float(v["seconds"])) for k, v in loaded.items()), key=lambda kv: -kv[1])
    return {
        "success": result.success,
        "seconds": round(seconds, 1),
        # the warehouse's own steps (extract, then dbt + reconciliation + publish); the run also materializes
        # `ledger_reconciliation` (the API's books against themselves: it reads the source, not the warehouse),
        # which the in-process executor runs one after the other with these
        "warehouse_seconds": round(sum(step_seconds.get(k, 0.0) for k in ("raw_tables", "warehouse_dbt_assets")), 1),
        "steps": step_seconds,
        "failed_checks": failed,
        "checks": len(result.get_asset_check_evaluations()),
        "rows_changed": sum(int(v["rows_inserted"]) + int(v["rows_updated"]) for v in loaded.values()),
        "publish": publish_line,
        # where the time goes: the slowest tables of the extract, and of the dbt nodes this run executed
        "extract_slowest_tables": {k: round(v, 2) for k, v in extract_seconds[:8]},
        "dbt_slowest_nodes": slowest_dbt_nodes(published, started_at),
    }


def _at_head(url: str) -> bool:
    """Whether the database at `url` is at the migrations' head revision (what the clone would write now)."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from api.settings import PROJECT_ROOT

    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            version = conn.execute(sa.text("select version_num from alembic_version")).scalar_one_or_none()
    except sa.exc.OperationalError:
        return False
    finally:
        engine.dispose()
    return version == ScriptDirectory.from_config(config).get_current_head()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--loans", type=int, default=100_000)
    parser.add_argument("--dir", type=Path, default=Path("data/bench"))
    parser.add_argument("--postgres", action="store_true", help="clone into a scratch PostgreSQL database")
    parser.add_argument("--keep", action="store_true", help="keep the warehouse files")
    parser.add_argument("--min-notes", type=int, default=clone.CloneSpec.min_notes, help="notes per loan, at least")
    parser.add_argument("--max-notes", type=int, default=clone.CloneSpec.max_notes, help="notes per loan, at most")
    args = parser.parse_args()
    os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
    args.dir.mkdir(parents=True, exist_ok=True)
    report: dict[str, Any] = {"loans": args.loans, "source": "postgresql" if args.postgres else "sqlite"}

    admin = None
    if args.postgres:
        base = os.environ.get("PEERLEND_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
        name = f"peerlend_bench_{uuid.uuid4().hex[:8]}"
        admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        url = sa.engine.make_url(base).set(database=name).render_as_string(hide_password=False)
        fresh = True
    else:
        path = (args.dir / f"clone-{args.loans}-notes{args.min_notes}-{args.max_notes}.db").resolve()
        url = f"sqlite:///{path}"
        # a cached clone made under an older schema (the API's migrations moved on) is made again
        fresh = not path.exists() or not _at_head(url)
        if fresh:
            path.unlink(missing_ok=True)
    try:
        if fresh:
            started = time.perf_counter()
            clone.build(
                url,
                clone.CloneSpec(loans=args.loans, min_notes=args.min_notes, max_notes=args.max_notes),
                log=lambda m: print("  clone:", m, flush=True),
            )
            report["clone_seconds"] = round(time.perf_counter() - started, 1)
        report["source_rows"] = source_rows(url)
        report["source_rows_total"] = sum(report["source_rows"].values())
        print(json.dumps(report["source_rows"]), flush=True)

        report["baseline_read_seconds"] = round(baseline_read(url), 1)
        published = (args.dir / f"warehouse-{args.loans}.duckdb").resolve()
        for p in (published, published.with_name(published.stem + ".work.duckdb")):
            for q in (p, p.with_name(p.name + ".wal")):
                q.unlink(missing_ok=True)
        shutil.rmtree(retired_dir(published), ignore_errors=True)

        full = run_pipeline(url, published, AS_OF)
        report["full"] = full
        report["full"]["extract_vs_baseline"] = round(
            full["steps"].get("raw_tables", 0) / report["baseline_read_seconds"], 2
        )
        own, child = peak_rss_gib()
        report["full"]["peak_rss_gib"] = {"pipeline_process": round(own, 2), "largest_child_dbt": round(child, 2)}
        report["warehouse_bytes"] = published.stat().st_size if published.exists() else None
        print(json.dumps(report["full"]), flush=True)

        started = time.perf_counter()
        add_deposits(url, EVENTS, AS_OF + timedelta(minutes=5))
        report["events_written_seconds"] = round(time.perf_counter() - started, 1)
        report["incremental"] = run_pipeline(url, published, AS_OF + timedelta(minutes=10))
        print(json.dumps(report["incremental"]), flush=True)
        report["no_change"] = run_pipeline(url, published, AS_OF + timedelta(minutes=15))
        print(json.dumps(report["no_change"]), flush=True)
        # steady state: the incremental run's work file became the published snapshot, so this run's work
        # file is the retired full build, two runs behind, which the run brings up to date
        add_deposits(url, EVENTS, AS_OF + timedelta(minutes=20))
        report["incremental_from_retired"] = run_pipeline(url, published, AS_OF + timedelta(minutes=25))
        own, child = peak_rss_gib()
        report["peak_rss_gib"] = {"pipeline_process": round(own, 2), "largest_child_dbt": round(child, 2)}
        print(json.dumps(report, indent=2))
        (args.dir / f"report-{report['source']}-{args.loans}.json").write_text(json.dumps(report, indent=2))
    finally:
        if admin is not None:
            with admin.connect() as conn:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()
        if not args.keep and not args.postgres:
            pass


if __name__ == "__main__":
    main()
