"""SQL for cash transfers through the payment processor."""

from __future__ import annotations

from datetime import datetime
from typing import cast

from sqlalchemy import Table, insert
from sqlalchemy.orm import Session

from api.cash.tables import CashTransfer

TRANSFERS = cast(Table, CashTransfer.__table__)


def add_transfer(
    session: Session, *, user_id: int, direction: str, amount_cents: int, reference: str, created_at: datetime
) -> int:
    return int(
        session.execute(
            insert(TRANSFERS)
            .values(
                user_id=user_id,
                direction=direction,
                amount_cents=amount_cents,
                processor_reference=reference,
                created_at=created_at,
            )
            .returning(TRANSFERS.c.transfer_id)
        ).scalar_one()
    )
