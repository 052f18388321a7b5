"""Borrower repayments: any amount, applied through the servicing replay (api/payments/servicing.py: fees,
interest accrued to the day, principal due, then prepayment; beyond everything owed is held for the borrower),
distributed to the note holders less the servicing fee (api/servicing/service.py). Payoff quotes and the
borrower's servicing view come from the same replay."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from api.identity.caller import Caller
from api.integrations.processor import outbox
from api.integrations.processor import repository as transfers_repo
from api.kit.clock import today
from api.kit.errors import Conflict, InvalidInput, NotFound
from api.kit.money import format_cents
from api.ledger import repository as ledger_repo
from api.ledger.accounts import Account
from api.lending import lifecycle
from api.lending import repository as loans_repo
from api.lending.events import Actor
from api.lending.lifecycle import LoanStatus
from api.lending.tables import Loan
from api.payments import repository as repo
from api.payments import servicing
from api.payments.tables import Payment, PaymentDistribution
from api.servicing import postings as servicing_postings
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
    session: Session, caller: Caller, loan_id: int, amount_cents: int, settings: Settings
) -> PaymentResult:
    """Apply the payment now (the borrower's balance shows it at once) and debit it through the processor: the
    note holders' share waits in their pending cash until the debit settles; a return reverses all of it."""
    loan = loans_repo.get_loan(session, loan_id, lock=True)
    # Someone else's loan is reported as missing: its existence is private to its borrower.
    if loan is None or not caller.owns_borrower_side(loan.borrower_id):
        raise NotFound(f"loan {loan_id} not found")
    if not _takes_payments(loan.status) or loan.disbursed_at is None:
        raise LoanNotRepayable(f"loan {loan_id} is {loan.status.replace('_', ' ')}; it takes no payments")
    # The debit goes to the processor's outbox with the payment: both commit, or neither does.
    debit = outbox.enqueue(
        session,
        kind="repayment",
        direction="collect",
        user_id=caller.user_id,
        amount_cents=amount_cents,
        loan_id=loan_id,
    )
    taken = servicer.take_payment(
        session,
        loan,
        payer_user_id=caller.user_id,
        amount_cents=amount_cents,
        reference=debit.client_reference,
        on=today(),
        settings=settings,
        actor=Actor.of(caller),
        transfer_ref_id=debit.transfer_ref_id,
        limit_overpayment=True,  # refused: the transaction rolls back, the outbox row with it
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
    held_cents: int  # paid beyond what was owed, less what was refunded
    debits: dict[int, str]


def debit_states(session: Session, loan_id: int) -> dict[int, str]:
    """transfer id -> its processor status, for the loan's debits."""
    return {t.transfer_ref_id: t.status for t in transfers_repo.transfers_of_loan(session, loan_id)}


def borrower_view(session: Session, caller: Caller, loan_id: int, settings: Settings) -> BorrowerView:
    loan = _serviced_loan(session, caller, loan_id)
    result = servicer.replay(session, loan, today(), settings)
    account = Account.loan_borrower_credit(loan_id)
    return BorrowerView(
        loan,
        result,
        repo.payments_of_loan(session, loan_id),
        servicing_repo.fees_of_loan(session, loan_id),
        ledger_repo.natural_balances(session, [account])[account],
        debit_states(session, loan_id),
    )


@dataclass(frozen=True)
class Refund:
    loan_id: int
    amount_cents: int
    held_after_cents: int
    reference: str


def refund(session: Session, caller: Caller, loan_id: int, amount_cents: int | None, settings: Settings) -> Refund:
    """Send money held for the borrower (paid beyond what was owed) back to their bank through the processor.
    `amount_cents` None refunds all of it."""
    loan = loans_repo.get_loan(session, loan_id, lock=True)
    if loan is None or not caller.owns_borrower_side(loan.borrower_id):
        raise NotFound(f"loan {loan_id} not found")
    account = Account.loan_borrower_credit(loan_id)
    held = ledger_repo.lock_natural_balances(session, [account])[account]
    wanted = held if amount_cents is None else amount_cents
    if held <= 0:
        raise NothingToRefund(f"loan {loan_id} holds no credit for you to refund")
    if wanted <= 0 or wanted > held:
        raise NothingToRefund(f"loan {loan_id} holds {format_cents(held)}; you asked for {format_cents(wanted)}")
    sent = outbox.enqueue(
        session, kind="refund", direction="payout", user_id=caller.user_id, amount_cents=wanted, loan_id=loan_id
    )
    ledger_repo.post(
        session,
        "refund",
        servicing_postings.refund(loan_id, wanted),
        f"refund {sent.client_reference} of credit held on loan {loan_id}: {format_cents(wanted)}",
        loan_id=loan_id,
    )
    # what the replay holds for the borrower is what they paid beyond their debt, less what went back
    return Refund(loan_id, wanted, held - wanted, sent.client_reference)


class NothingToRefund(Conflict):
    code = "nothing_to_refund"
