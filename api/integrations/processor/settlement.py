"""What the processor's outcomes do to the ledger: one rule per kind of transfer, each a balanced transaction.

| transfer     | asked for                          | settled                           | returned before it settled  |
|--------------|------------------------------------|-----------------------------------|-----------------------------|
| deposit      | in transit / pending cash          | -> processor cash, available cash | pending cash reversed       |
| withdrawal   | available cash / in transit        | in transit -> processor cash      | back to available cash      |
| disbursement | principal / in transit (issuance)  | in transit -> processor cash      | held for the borrower       |
| refund       | borrower credit / in transit       | in transit -> processor cash      | held for the borrower again |
| repayment    | in transit / collections, to note  | -> processor cash; note holders'  | payment and distribution    |
|              | holders' pending cash              | pending -> available cash         | reversed (servicing.returns)|

A return after settlement (a late return) reverses the settlement too. If the money it takes back has been
spent (an investor's cash is gone), nothing is posted: the transfer keeps the return as an `exception`, and
reconciliation reports the difference against the processor's settlement report until staff resolve it."""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from api.integrations.processor.base import RETURN_CODES
from api.integrations.processor.tables import ProcessorTransfer
from api.kit.clock import utcnow
from api.kit.money import format_cents
from api.ledger import postings
from api.ledger import repository as ledger_repo
from api.ledger.postings import Posting
from api.payments import repository as payments_repo
from api.settings import Settings


def _post(
    session: Session, kind: str, rows: list[Posting], t: ProcessorTransfer, what: str, payment_id: int | None = None
) -> None:
    subject = f"loan {t.loan_id} payment {payment_id}" if t.kind == "repayment" else t.kind
    ledger_repo.post(
        session,
        kind,
        rows,
        f"{subject} {what}: {format_cents(t.amount_cents)} ({t.client_reference})",
        loan_id=t.loan_id,
        transfer_id=t.cash_transfer_id,
        payment_id=payment_id,
    )


def _request_postings(t: ProcessorTransfer) -> list[Posting]:
    """The pending entry each kind posted when it was asked for (repayments: api/servicing/returns.py)."""
    if t.kind == "deposit":
        return postings.deposit(_investor(t), t.amount_cents)
    if t.kind == "withdrawal":
        return postings.withdrawal(_investor(t), t.amount_cents)
    # a disbursement or refund that comes back is held for the borrower (the loan stays issued)
    return postings.reverse(postings.payout_returned_to_borrower(_loan(t), t.amount_cents))


def _settlement_postings(session: Session, t: ProcessorTransfer) -> tuple[list[Posting], int | None]:
    if t.kind == "deposit":
        return postings.deposit_settled(_investor(t), t.amount_cents), None
    if t.kind == "repayment":
        payment = payments_repo.live_payment_of_transfer(session, t.transfer_ref_id)
        if payment is None:
            raise LookupError(f"transfer {t.client_reference} has no payment")
        released = payments_repo.net_by_investor(session, payment.payment_id)
        return postings.collection_settled(t.amount_cents, released), payment.payment_id
    return postings.payout_settled(t.amount_cents), None


def settle(session: Session, settings: Settings, t: ProcessorTransfer, on: date) -> str:
    if t.status in ("settled", "returned"):
        return "ignored"  # a duplicate under another event id, or a settlement after a (final) return
    rows, payment_id = _settlement_postings(session, t)
    _post(session, "settlement", rows, t, "settled", payment_id=payment_id)
    t.status, t.settled_on, t.updated_at = "settled", on, utcnow()
    return "applied"


def return_transfer(session: Session, settings: Settings, t: ProcessorTransfer, code: str, on: date) -> str:
    if t.status == "returned":
        return "ignored"
    reason = f"returned {code} ({RETURN_CODES.get(code, 'other')})"
    late = t.status == "settled"
    savepoint = session.begin_nested()
    try:
        if t.kind == "repayment":
            from api.servicing.returns import return_payment

            payment = payments_repo.live_payment_of_transfer(session, t.transfer_ref_id)
            if payment is None:
                raise LookupError(f"transfer {t.client_reference} has no payment")
            return_payment(session, payment.payment_id, code, settings)
        else:
            rows = postings.reverse(_request_postings(t))
            if late:
                rows = postings.check_balanced([*rows, *postings.reverse(_settlement_postings(session, t)[0])])
            _post(session, "transfer_return", rows, t, reason)
    except ledger_repo.Overdrawn as error:
        savepoint.rollback()
        t.return_code, t.updated_at = code, utcnow()
        t.exception = f"{reason} after settlement, but {error}: not posted"[:200]
        return "exception"
    savepoint.commit()
    t.status, t.return_code, t.returned_on, t.updated_at = "returned", code, on, utcnow()
    return "applied"


def _investor(t: ProcessorTransfer) -> int:
    if t.investor_id is None:
        raise ValueError(f"{t.kind} {t.client_reference} has no investor")
    return t.investor_id


def _loan(t: ProcessorTransfer) -> int:
    if t.loan_id is None:
        raise ValueError(f"{t.kind} {t.client_reference} has no loan")
    return t.loan_id
