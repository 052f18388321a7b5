"""A returned payment (ACH R01 insufficient funds, R02 account closed, ...): everything it did is reversed
exactly (its repayment and its distributions, posting for posting, as one `payment_return` transaction), it
leaves the replay (status `returned`), and the loan is serviced again without it (it may fall back into a
delinquency bucket, with lifecycle events, and owe a late fee it had avoided).

Limits for now (docs/servicing.md): only the loan's latest settled payment can be returned (a return behind
later payments would re-allocate them), and not one that closed the loan (repaid is terminal)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from api.kit.clock import today
from api.kit.errors import Conflict, NotFound
from api.kit.money import format_cents
from api.ledger import repository as ledger_repo
from api.ledger.accounts import Account, AccountKind
from api.ledger.postings import Posting
from api.lending import repository as loans_repo
from api.lending.lifecycle import LoanStatus
from api.payments.tables import Payment
from api.servicing import repository as repo
from api.servicing import service
from api.settings import Settings

RETURN_CODES = {"R01": "insufficient funds", "R02": "account closed", "R03": "no account", "R10": "not authorized"}


class ReturnNotPossible(Conflict):
    code = "return_not_possible"


def return_payment(session: Session, payment_id: int, code: str, settings: Settings) -> Payment:
    if code not in RETURN_CODES:
        raise ReturnNotPossible(f"unknown return code {code}")
    payment = session.get(Payment, payment_id)
    if payment is None:
        raise NotFound(f"payment {payment_id} not found")
    loan = loans_repo.get_loan(session, payment.loan_id, lock=True)
    session.refresh(payment, with_for_update=True)
    if payment.status == "returned":
        return payment  # a duplicate return notice: already done
    if loan is None:  # a payment's loan is never deleted; this only narrows the type
        raise NotFound(f"loan {payment.loan_id} not found")
    if loan.status == LoanStatus.REPAID:
        raise ReturnNotPossible(f"payment {payment_id} closed loan {loan.loan_id}; reopening is not supported yet")
    if repo.later_settled_payments(session, loan.loan_id, payment.date, payment_id):
        raise ReturnNotPossible(f"payment {payment_id} has later payments; re-allocating them is not supported yet")
    reversed_postings = [
        Posting(Account(AccountKind(kind), owner), -amount)
        for kind, owner, amount in repo.postings_of_payment(session, payment_id)
    ]
    ledger_repo.post(
        session,
        "payment_return",
        reversed_postings,
        f"payment {payment_id} returned ({code} {RETURN_CODES[code]}): {format_cents(payment.amount_cents)} reversed",
        loan_id=loan.loan_id,
        payment_id=payment_id,
    )
    payment.status = "returned"
    payment.return_code = code
    session.flush()
    service.sync(session, loan, service.replay(session, loan, today(), settings), service.SERVICER)
    return payment
