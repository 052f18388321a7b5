"""Buying notes in listed loans.

Order of work (and of locks, the same everywhere): the loan row first, taken by the single UPDATE that
adds the commitment and refuses over-funding; then the investor's accounts, in the ledger's lock order.
The investment that completes a loan marks it funded; issuing it (disbursement, schedule, notices) runs
in its own transaction right after the commit (api/lending/issuance.py), so the investing transaction
never has to lock other investors' accounts while holding its own."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from api.identity.caller import Caller
from api.integrations.processor.base import PaymentProcessor
from api.kit.clock import utcnow
from api.kit.db import Database, after_commit
from api.kit.errors import InsufficientFunds, InvalidAmount, NotFound, PeerlendError
from api.kit.money import format_cents
from api.ledger import postings
from api.ledger import repository as ledger_repo
from api.ledger.accounts import Account
from api.lending import repository as repo
from api.lending.errors import ExceedsLoanAmount, LoanNotOpen
from api.lending.issuance import issue_funded_loan
from api.settings import Settings


@dataclass(frozen=True, slots=True)
class Invested:
    investment_id: int
    loan_id: int
    investor_id: int
    amount_cents: int
    loan_status: str
    loan_funded_cents: int
    created_at: datetime


def invest(
    session: Session,
    database: Database,
    processor: PaymentProcessor,
    settings: Settings,
    caller: Caller,
    loan_id: int,
    amount_cents: int,
) -> Invested:
    step = settings.investment_step_cents
    if amount_cents % step:
        raise InvalidAmount(f"amount must be a multiple of {format_cents(step)}")
    investor_id = caller.investor()
    funded = repo.fund(session, loan_id, amount_cents)
    if funded is None:
        raise _refusal(session, loan_id, amount_cents)
    investment_id, created_at = repo.add_investment(
        session, loan_id=loan_id, investor_id=investor_id, amount_cents=amount_cents
    )
    try:
        ledger_repo.post(
            session,
            "investment",
            postings.investment(investor_id, amount_cents),
            f"note {investment_id} in loan {loan_id}",
            loan_id=loan_id,
            investment_id=investment_id,
        )
    except ledger_repo.Overdrawn:
        cash = ledger_repo.natural_balances(session, [Account.investor_cash(investor_id)])
        available = next(iter(cash.values()))
        raise InsufficientFunds(
            f"available cash is {format_cents(available)}; deposit more to invest {format_cents(amount_cents)}"
        ) from None
    status = funded.status
    if funded.funded_amount_cents == funded.amount_cents:
        status = "funded"
        repo.set_status(session, loan_id, status, funded_at=utcnow())

        def issue_now() -> None:
            issue_funded_loan(database, processor, loan_id)

        after_commit(session, issue_now)
    return Invested(
        investment_id=investment_id,
        loan_id=loan_id,
        investor_id=investor_id,
        amount_cents=amount_cents,
        loan_status=status,
        loan_funded_cents=int(funded.funded_amount_cents),
        created_at=created_at,
    )


def _refusal(session: Session, loan_id: int, amount_cents: int) -> PeerlendError:
    """The funding UPDATE matched nothing: say why (this path is the error path only)."""
    loan = repo.loan_row(session, loan_id)
    if loan is None:
        return NotFound(f"loan {loan_id} not found")
    if loan.status != "listed":
        return LoanNotOpen(f"loan {loan_id} is {loan.status} and no longer takes investments")
    remaining = loan.amount_cents - loan.funded_amount_cents
    return ExceedsLoanAmount(
        f"loan {loan_id} needs only {format_cents(remaining)} more; you asked to invest {format_cents(amount_cents)}"
    )
