"""The processor outbox: a transfer is asked for by writing a `processor_transfers` row in the transaction that
posts its pending ledger entry, and submitted afterwards by the worker (`processor` job). The row's
`client_reference` is the processor's idempotency key, so a submission retried after a crash (the processor
moved the money, our commit was lost) gets the first transfer back rather than a second one."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.integrations.processor.base import Direction, PaymentProcessor, TransferRequest
from api.integrations.processor.tables import ProcessorTransfer
from api.kit.clock import today, utcnow
from api.kit.db import Database

BATCH = 200


def new_reference() -> str:
    return f"pl_{uuid.uuid4().hex}"


def enqueue(
    session: Session,
    *,
    client_reference: str | None = None,
    kind: str,
    direction: Direction,
    user_id: int,
    amount_cents: int,
    investor_id: int | None = None,
    loan_id: int | None = None,
    cash_transfer_id: int | None = None,
) -> ProcessorTransfer:
    transfer = ProcessorTransfer(
        client_reference=client_reference or new_reference(),
        kind=kind,
        direction=direction,
        user_id=user_id,
        amount_cents=amount_cents,
        investor_id=investor_id,
        loan_id=loan_id,
        cash_transfer_id=cash_transfer_id,
        status="queued",
        attempts=0,
        requested_on=today(),
    )
    session.add(transfer)
    session.flush()
    return transfer


@dataclass(frozen=True)
class SubmitReport:
    submitted: int = 0
    failed: int = 0


def submit_queued(database: Database, processor: PaymentProcessor) -> SubmitReport:
    """Submit every queued transfer, each in its own transaction; a failure is kept for the next run."""
    submitted = failed = 0
    after = 0
    while True:
        with database.transaction(write=False) as session:
            ids = list(
                session.scalars(
                    select(ProcessorTransfer.transfer_ref_id)
                    .where(ProcessorTransfer.status == "queued", ProcessorTransfer.transfer_ref_id > after)
                    .order_by(ProcessorTransfer.transfer_ref_id)
                    .limit(BATCH)
                )
            )
        if not ids:
            return SubmitReport(submitted, failed)
        after = ids[-1]
        done = _submit(database, processor, ids)
        submitted += done.submitted
        failed += done.failed


def _submit(database: Database, processor: PaymentProcessor, ids: list[int]) -> SubmitReport:
    """No database lock is held while the processor is called (it is another system, and may be slow): the
    request is read, sent, and its answer written in a transaction of its own. Two workers sending the same
    transfer at once send the same idempotency key, so the processor makes one transfer of it."""
    submitted = failed = 0
    for transfer_ref_id in ids:
        with database.transaction(write=False) as session:
            transfer = session.get(ProcessorTransfer, transfer_ref_id)
            if transfer is None or transfer.status != "queued":
                continue  # another worker, or a webhook that raced the submission, got there first
            direction: Direction = "collect" if transfer.direction == "collect" else "payout"
            request = TransferRequest(transfer.client_reference, direction, transfer.user_id, transfer.amount_cents)
        error: str | None = None
        reference: str | None = None
        try:
            reference = processor.submit(request)
        except Exception as exc:  # noqa: BLE001 - kept on the row, retried by the next run
            error = f"{type(exc).__name__}: {exc}"[:200]
        with database.transaction() as session:
            transfer = session.get(ProcessorTransfer, transfer_ref_id, with_for_update=True)
            if transfer is None:
                continue
            transfer.attempts += 1
            transfer.updated_at = utcnow()
            if reference is None:
                transfer.last_error = error
                failed += 1
            elif transfer.status == "queued":
                transfer.processor_reference = reference
                transfer.status = "submitted"
                transfer.submitted_at = utcnow()
                transfer.last_error = None
                submitted += 1
    return SubmitReport(submitted, failed)
