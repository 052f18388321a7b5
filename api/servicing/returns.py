"""A returned payment (ACH R01 insufficient funds, R02 account closed, ...): everything it did is reversed
exactly, posting for posting (its repayment, its distribution to the note holders, and its settlement if it had
settled), as one `payment_return` transaction; it leaves the replay (status `returned`), and the loan is
serviced again without it: it may fall back into a delinquency bucket, with lifecycle events, owe a late fee it
had avoided, or reopen if the returned payment had closed it.

A payment behind later ones can be returned too (the processor decides, not us). The later payments were
allocated as if it had been paid, so each is reversed (`payment_reallocation`, newest first) and applied again
in its original order and date as a new row for the same transfer (the old row is `superseded`); a later
payment whose money had already settled is released to its note holders again at once. The ledger then agrees
with the replay to the cent, and every row ever written stays for the audit trail."""

from __future__ import annotations

from sqlalchemy.orm import Session

from api.integrations.processor.base import RETURN_CODES
from api.integrations.processor.tables import ProcessorTransfer
from api.kit.clock import today
from api.kit.errors import Conflict, NotFound
from api.kit.money import format_cents
from api.ledger import postings as ledger_postings
from api.ledger import repository as ledger_repo
from api.ledger.accounts import Account, AccountKind
from api.ledger.postings import Posting
from api.lending import repository as loans_repo
from api.payments import repository as payments_repo
from api.payments.tables import Payment
from api.servicing import repository as repo
from api.servicing import service
from api.settings import Settings


class ReturnNotPossible(Conflict):
    code = "return_not_possible"


def _reverse(session: Session, payment: Payment, kind: str, description: str) -> None:
    rows = [
        Posting(Account(AccountKind(k), owner), -amount)
        for k, owner, amount in repo.postings_of_payment(session, payment.payment_id)
    ]
    if rows:
        ledger_repo.post(session, kind, rows, description, loan_id=payment.loan_id, payment_id=payment.payment_id)


def return_payment(session: Session, payment_id: int, code: str, settings: Settings) -> Payment:
    if code not in RETURN_CODES:
        raise ReturnNotPossible(f"unknown return code {code}; expected one of {', '.join(RETURN_CODES)}")
    payment = session.get(Payment, payment_id)
    if payment is None:
        raise NotFound(f"payment {payment_id} not found")
    loan = loans_repo.get_loan(session, payment.loan_id, lock=True)
    session.refresh(payment, with_for_update=True)
    if payment.status == "returned":
        return payment  # a duplicate return notice: already done
    if payment.status != "settled" or loan is None:
        raise ReturnNotPossible(f"payment {payment_id} was re-applied as a later payment; return that one")
    later = repo.later_applied_payments(session, loan.loan_id, payment.date, payment_id)
    for p in reversed(later):
        _reverse(session, p, "payment_reallocation", f"payment {p.payment_id} reversed to re-apply it after a return")
        p.status = "superseded"
    _reverse(
        session,
        payment,
        "payment_return",
        f"payment {payment_id} returned ({code} {RETURN_CODES[code]}): {format_cents(payment.amount_cents)} reversed",
    )
    payment.status = "returned"
    payment.return_code = code
    session.flush()
    for p in later:
        again = service.take_payment(
            session,
            loan,
            payer_user_id=p.payer_user_id,
            amount_cents=p.amount_cents,
            reference=p.processor_reference,
            on=p.date,
            settings=settings,
            actor=service.SERVICER,
            transfer_ref_id=p.transfer_ref_id,
        )
        transfer = session.get(ProcessorTransfer, p.transfer_ref_id) if p.transfer_ref_id else None
        if transfer is None or transfer.status == "settled":
            ledger_repo.post(
                session,
                "settlement",
                ledger_postings.collection_settled(
                    p.amount_cents, payments_repo.net_by_investor(session, again.payment.payment_id)
                ),
                f"payment {again.payment.payment_id} re-applied after a return: its settled money released again",
                loan_id=loan.loan_id,
                payment_id=again.payment.payment_id,
            )
    service.sync(session, loan, service.replay(session, loan, today(), settings), service.SERVICER)
    return payment
