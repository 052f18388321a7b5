"""Borrower repayments: any amount, applied through the servicing replay (api/payments/servicing.py: fees,
interest accrued to the day, principal due, then prepayment; beyond everything owed is held for the borrower),
distributed to the note holders less the servicing fee (api/servicing/service.py). Payoff quotes and the
borrower's servicing view come from the same replay."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from api.identity.caller import Caller
from api.integrations.processor.base import PaymentProcessor
from api.kit.clock import today
from api.kit.errors import Conflict, InvalidInput, NotFound
from api.lending import lifecycle
from api.lending import repository as loans_repo
from api.lending.events import Actor
from api.lending.lifecycle import LoanStatus
from api.lending.tables import Loan
from api.payments import repository as repo
from api.payments import servicing
from api.payments.tables import Payment, PaymentDistribution
from api.servicing import repository as servicing_repo
from api.servicing import service as servicer
from api.servicing.tables import LoanFee
from api.settings import Settings

MAX_QUOTE_DAYS = 366 * 2


class LoanNotRepayable(Conflict):
    code = "loan_not_repayable"


@dataclass(frozen=True)
class PaymentResult:
    payment: Payment
    loan: Loan
    distributions: list[PaymentDistribution]
    outstanding_principal_cents: int
    payoff_cents: int


def _takes_payments(status: str) -> bool:
    """Issued loans in repayment, and charged-off loans (what they receive is a recovery)."""
    return lifecycle.accepts_repayment(status) or status == LoanStatus.CHARGED_OFF


def make_payment(
    session: Session,
    processor: PaymentProcessor,
    caller: Caller,
    loan_id: int,
    amount_cents: int,
    processor_key: str,
    settings: Settings,
) -> PaymentResult:
    loan = loans_repo.get_loan(session, loan_id, lock=True)
    # Someone else's loan is reported as missing: its existence is private to its borrower.
    if loan is None or not caller.owns_borrower_side(loan.borrower_id):
        raise NotFound(f"loan {loan_id} not found")
    if not _takes_payments(loan.status) or loan.disbursed_at is None:
        raise LoanNotRepayable(f"loan {loan_id} is {loan.status.replace('_', ' ')}; it takes no payments")
    reference = processor.collect(
        user_id=caller.user_id, amount_cents=amount_cents, purpose=f"loan {loan_id}", idempotency_key=processor_key
    )
    taken = servicer.take_payment(
        session,
        loan,
        payer_user_id=caller.user_id,
        amount_cents=amount_cents,
        reference=reference,
        on=today(),
        settings=settings,
        actor=Actor.of(caller),
    )
    session.flush()
    return PaymentResult(
        taken.payment, loan, taken.distributions, taken.result.state.principal_cents, taken.result.payoff_cents
    )


def payments_of(session: Session, loan_id: int) -> list[Payment]:
    return repo.payments_of_loan(session, loan_id)


def _serviced_loan(session: Session, caller: Caller, loan_id: int) -> Loan:
    loan = loans_repo.get_loan(session, loan_id)
    if loan is None or not (caller.owns_borrower_side(loan.borrower_id) or caller.is_staff):
        raise NotFound(f"loan {loan_id} not found")
    if loan.disbursed_at is None:
        raise LoanNotRepayable(f"loan {loan_id} is {loan.status}; it has not been issued")
    return loan


def payoff(
    session: Session, caller: Caller, loan_id: int, on: date | None, settings: Settings
) -> tuple[Loan, servicing.Servicing]:
    """The replay as of `on` (today by default): its payoff closes the loan on that day, assuming no other
    payment until then."""
    loan = _serviced_loan(session, caller, loan_id)
    day = on or today()
    if day < today():
        raise InvalidInput("a payoff quote is for today or a later date")
    if (day - today()).days > MAX_QUOTE_DAYS:
        raise InvalidInput(f"a payoff quote is for at most {MAX_QUOTE_DAYS} days ahead")
    return loan, servicer.replay(session, loan, day, settings)


@dataclass(frozen=True)
class BorrowerView:
    loan: Loan
    result: servicing.Servicing
    payments: list[Payment]
    fees: list[LoanFee]


def borrower_view(session: Session, caller: Caller, loan_id: int, settings: Settings) -> BorrowerView:
    loan = _serviced_loan(session, caller, loan_id)
    result = servicer.replay(session, loan, today(), settings)
    return BorrowerView(
        loan, result, repo.payments_of_loan(session, loan_id), servicing_repo.fees_of_loan(session, loan_id)
    )
