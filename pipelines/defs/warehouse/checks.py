"""Reconciliation: the warehouse's investor balances agree with the ledger in the source database."""

import dagster as dg

from pipelines.lib.reconcile import INVESTOR_ACCOUNT_COLUMNS, read_source_ledger
from pipelines.lib.resources import SourceDatabase, Warehouse

_MART = "marts.fct_investor_portfolios"


@dg.asset_check(
    asset=dg.AssetKey(["marts", "fct_investor_portfolios"]),
    description=(
        "The source database's ledger (up to the loaded high-water mark) sums to zero overall and per "
        "transaction, matches raw.ledger_entries in count and total, and every investor's cash, committed, "
        "outstanding principal and interest received in the mart equal the balances computed from it."
    ),
)
def reconciles_with_source_ledger(source: SourceDatabase, warehouse: Warehouse) -> dg.AssetCheckResult:
    columns = list(INVESTOR_ACCOUNT_COLUMNS.values())
    with warehouse.connect(read_only=True) as duck:
        ((max_entry_id, wh_entries, wh_total),) = duck.execute(
            "select max(entry_id), count(*), coalesce(sum(amount_cents), 0) from raw.ledger_entries"
        ).fetchall()
        mart = {
            int(row[0]): dict(zip(columns, (int(v) for v in row[1:]), strict=True))
            for row in duck.execute(f"select investor_id, {', '.join(columns)} from {_MART}").fetchall()
        }
    with source.snapshot() as conn:
        ledger = read_source_ledger(conn, max_entry_id)

    mismatches = []
    for investor_id in sorted(set(mart) | set(ledger.investor_balances)):
        expected = ledger.investor_balances.get(investor_id, dict.fromkeys(columns, 0))
        actual = mart.get(investor_id)
        if actual != expected:
            mismatches.append({"investor_id": investor_id, "source": expected, "warehouse": actual})

    passed = (
        ledger.total_cents == 0
        and not ledger.unbalanced_transactions
        and ledger.entries == wh_entries
        and ledger.total_cents == int(wh_total)
        and not mismatches
    )
    return dg.AssetCheckResult(
        passed=passed,
        metadata={
            "ledger_entries_checked": ledger.entries,
            "warehouse_ledger_entries": int(wh_entries),
            "source_ledger_total_cents": ledger.total_cents,
            "unbalanced_transactions": dg.MetadataValue.json(ledger.unbalanced_transactions[:50]),
            "investors_checked": len(mart),
            "investor_mismatches": len(mismatches),
            "first_mismatches": dg.MetadataValue.json(mismatches[:20]),
        },
    )
