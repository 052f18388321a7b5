"""The ledger read straight from the source database, to reconcile the warehouse against it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from api.db.tables import LedgerAccount, LedgerEntry

# The investor accounts and the mart column each one's (credit-side) balance is shown in.
INVESTOR_ACCOUNT_COLUMNS = {
    "investor_cash": "cash_cents",
    "investor_commitments": "committed_cents",
    "investor_notes": "outstanding_principal_cents",
    "investor_interest_income": "interest_received_cents",
}


@dataclass
class SourceLedger:
    entries: int = 0
    total_cents: int = 0
    unbalanced_transactions: list[int] = field(default_factory=list)
    investor_balances: dict[int, dict[str, int]] = field(default_factory=dict)


def read_source_ledger(conn: Connection, max_entry_id: int | None) -> SourceLedger:
    """The source ledger up to `max_entry_id` (the warehouse's high-water mark: the ledger is append-only,
    so that prefix is exactly what the warehouse should hold)."""
    ledger = SourceLedger()
    if max_entry_id is None or not sa.inspect(conn).has_table(LedgerEntry.__tablename__):
        return ledger
    e, a = LedgerEntry.__table__, LedgerAccount.__table__
    upto = e.c.entry_id <= max_entry_id

    count, total = conn.execute(
        sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(e.c.amount_cents), 0)).where(upto)
    ).one()
    ledger.entries, ledger.total_cents = int(count), int(total)  # type: ignore[call-overload]

    ledger.unbalanced_transactions = list(
        conn.execute(
            sa.select(e.c.transaction_id)
            .where(upto)
            .group_by(e.c.transaction_id)
            .having(sa.func.sum(e.c.amount_cents) != 0)
            .order_by(e.c.transaction_id)
        ).scalars()
    )

    rows = conn.execute(
        sa.select(a.c.code, a.c.account_type, a.c.investor_id, sa.func.sum(e.c.amount_cents))
        .join(a, a.c.account_id == e.c.account_id)
        .where(upto, a.c.account_type.in_(INVESTOR_ACCOUNT_COLUMNS))
        .group_by(a.c.account_id, a.c.code, a.c.account_type, a.c.investor_id)
    ).all()
    typed_rows: list[tuple[Any, ...]] = [tuple(row) for row in rows]
    for code, account_type, investor_id, balance in typed_rows:
        owner = investor_id if investor_id is not None else int(code.split(":", 1)[1])
        column = INVESTOR_ACCOUNT_COLUMNS[account_type]
        per_investor = ledger.investor_balances.setdefault(
            int(owner), dict.fromkeys(INVESTOR_ACCOUNT_COLUMNS.values(), 0)
        )
        per_investor[column] += -int(balance)  # credit-normal: the investor's money is -balance
    return ledger
