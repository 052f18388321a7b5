"""`ledger_reconciliation`: the ledger sums to zero, every balance equals its postings, each loan's principal is
the sum over its notes (and what servicing says), and the processor's settlement report matches ledger cash,
run against the API's database (the source) with the platform's processor. Differences are listed, never
hidden, and `ledger_reconciles` fails on any of them."""

from typing import Any

import dagster as dg

from api.integrations.processor.jobs import build_processor
from api.kit.db import Database
from api.kit.money import format_cents
from api.servicing.reconcile import reconcile
from api.settings import get_settings
from pipelines.lib.resources import SourceDatabase

GROUP = "servicing"
SHOWN = 50  # differences listed in the metadata; the count is always complete


@dg.asset(
    group_name=GROUP,
    description="The API's books reconciled: ledger, notes, servicing, and the processor's settlement report "
    "against ledger cash (api/servicing/reconcile.py); every difference listed.",
)
def ledger_reconciliation(context: dg.AssetExecutionContext, source: SourceDatabase) -> dict[str, Any]:
    url = source.resolved_url()
    database = Database(url)
    try:
        settings = get_settings().model_copy(update={"database_url": url})
        found = reconcile(database, build_processor(settings, database))
    finally:
        database.dispose()
    report = {
        "differences": found.differences,
        "ledger_total_cents": found.ledger_total_cents,
        "processor_cash": format_cents(found.processor_cash_cents),
        "processor_settlement": format_cents(found.settlement_cents),
        "in_transit": format_cents(found.in_transit_cents),
        "settlement_lines": found.settlement_lines,
    }
    context.add_output_metadata(
        {
            "differences": len(found.differences),
            "processor_cash": report["processor_cash"],
            "processor_settlement": report["processor_settlement"],
            "in_transit": report["in_transit"],
            "settlement_lines": found.settlement_lines,
            "first_differences": dg.MetadataValue.json(found.differences[:SHOWN]),
        }
    )
    return report


@dg.asset_check(asset=ledger_reconciliation, description="The books reconcile: no difference of any kind.")
def ledger_reconciles(ledger_reconciliation: dict[str, Any]) -> dg.AssetCheckResult:
    differences: list[str] = ledger_reconciliation["differences"]
    return dg.AssetCheckResult(
        passed=not differences,
        severity=dg.AssetCheckSeverity.ERROR,
        description="no differences" if not differences else f"{len(differences)} difference(s): {differences[0]}",
        metadata={"differences": len(differences), "first": dg.MetadataValue.json(differences[:SHOWN])},
    )
