"""SQL for our side of the processor: transfers (the outbox) and their events."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.integrations.processor.tables import ProcessorTransfer

RECENT = 100


def transfers_of_investor(session: Session, investor_id: int) -> list[ProcessorTransfer]:
    return list(
        session.scalars(
            select(ProcessorTransfer)
            .where(ProcessorTransfer.investor_id == investor_id)
            .order_by(ProcessorTransfer.transfer_ref_id.desc())
            .limit(RECENT)
        )
    )


def transfers_of_loan(session: Session, loan_id: int) -> list[ProcessorTransfer]:
    return list(
        session.scalars(
            select(ProcessorTransfer)
            .where(ProcessorTransfer.loan_id == loan_id)
            .order_by(ProcessorTransfer.transfer_ref_id)
        )
    )


def by_client_reference(session: Session, client_reference: str) -> ProcessorTransfer | None:
    return session.scalar(select(ProcessorTransfer).where(ProcessorTransfer.client_reference == client_reference))
