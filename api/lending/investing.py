"""Buying notes in listed loans, and cancelling a commitment before the loan is issued.

Order of work (and of locks, the same everywhere): the loan row first, taken by the single UPDATE that
adds the commitment and refuses over-funding; then the note, inserted only if the investor stays within the
per-investor cap for the loan (the loan's lock serialises the check); then the investor's accounts, in the
ledger's lock order. Cash is reserved at commitment (investor_cash -> investor_commitments) and settled at
issuance (commitments -> notes). The investment that completes a loan marks it funded; issuing it
(disbursement, schedule, notices) runs in its own transaction right after the commit
(api/lending/issuance.py), so the investing transaction never locks other investors' accounts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from api.identity.caller import Caller
from api.kit.clock import utcnow
from api.kit.db import Database, after_commit
from api.kit.errors import InsufficientFunds, InvalidAmount, NotFound, PeerlendError
from api.kit.money import format_cents
from api.ledger import postings
from api.ledger import repository as ledger_repo
from api.ledger.accounts import Account
from api.lending import events, lifecycle
from api.lending import repository as repo
from api.lending.errors import CommitmentNotCancellable, ExceedsInvestorCap, ExceedsLoanAmount, LoanNotOpen
from api.lending.events import Actor
from api.lending.issuance import issue_funded_loan
from api.lending.lifecycle import LoanEvent
from api.lending.tables import Investment
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


@dataclass(frozen=True, slots=True)
class Committed:
    investment_id: int
    created_at: datetime
    funded_cents: int
    amount_cents: int  # the loan's
    status: str  # the loan's, before this commitment completed it


def invest(
    session: Session,
    database: Database,
    settings: Settings,
    caller: Caller,
    loan_id: int,
    amount_cents: int,
) -> Invested:
    investor_id = caller.investor()
    done = commit(session, settings, investor_id, loan_id, amount_cents)
    try:
        ledger_repo.post(
            session,
            "investment",
            postings.investment(investor_id, amount_cents),
            f"note {done.investment_id} in loan {loan_id}",
            loan_id=loan_id,
            investment_id=done.investment_id,
        )
    except ledger_repo.Overdrawn:
        raise _no_cash(session, investor_id, amount_cents) from None
    status = complete_if_full(session, database, loan_id, done, Actor.of(caller))
    return Invested(
        investment_id=done.investment_id,
        loan_id=loan_id,
        investor_id=investor_id,
        amount_cents=amount_cents,
        loan_status=status,
        loan_funded_cents=done.funded_cents,
        created_at=done.created_at,
    )


def commit(
    session: Session, settings: Settings, investor_id: int, loan_id: int, amount_cents: int, source: str = "manual"
) -> Committed:
    """Add the commitment to the loan and the note (two statements); the caller posts the ledger. Raises the
    reason when the loan cannot take it."""
    step = settings.investment_step_cents
    if amount_cents % step:
        raise InvalidAmount(f"amount must be a multiple of {format_cents(step)}")
    funded = repo.fund(session, loan_id, amount_cents)
    if funded is None:
        raise refusal(session, loan_id, amount_cents)
    cap = settings.max_investment_per_loan_cents
    note = repo.add_investment(
        session, loan_id=loan_id, investor_id=investor_id, amount_cents=amount_cents, cap_cents=cap, source=source
    )
    if note is None:
        held = repo.held_in_loans(session, investor_id, [loan_id]).get(loan_id, 0)
        raise ExceedsInvestorCap(
            f"one investor may commit at most {format_cents(cap)} to a loan; you have {format_cents(held)} in "
            f"loan {loan_id} and asked for {format_cents(amount_cents)} more"
        )
    return Committed(note[0], note[1], int(funded.funded_amount_cents), int(funded.amount_cents), str(funded.status))


def complete_if_full(session: Session, database: Database, loan_id: int, done: Committed, actor: Actor) -> str:
    """The commitment that fills the loan funds it (the machine says how) and schedules its issuance."""
    if done.funded_cents != done.amount_cents:
        return done.status
    status = events.transition_row(session, loan_id, done.status, LoanEvent.FUND, actor, funded_at=utcnow())

    def issue_now() -> None:
        issue_funded_loan(database, loan_id)

    after_commit(session, issue_now)
    return status.value


def cancel_commitment(session: Session, caller: Caller, investment_id: int) -> tuple[Investment, str]:
    """Withdraw a commitment while its loan is still listed: the cash goes back to the investor's available
    cash, the loan's funded amount goes down. Locks the loan first, as every commitment does."""
    investor_id = caller.investor()
    found = repo.get_investment(session, investment_id)
    if found is None or found.investor_id != investor_id:
        raise NotFound(f"investment {investment_id} not found")
    loan = repo.get_loan(session, found.loan_id, lock=True)
    note = repo.get_investment(session, investment_id, lock=True)
    if loan is None or note is None:
        raise NotFound(f"investment {investment_id} not found")
    if note.status != "committed":
        raise CommitmentNotCancellable(
            f"investment {investment_id} is {note.status}; only a commitment can be cancelled"
        )
    if not lifecycle.takes_investments(loan.status):
        raise CommitmentNotCancellable(
            f"loan {loan.loan_id} is {loan.status}: its notes are being issued and can no longer be cancelled"
        )
    repo.release_commitment(session, loan.loan_id, note.amount_cents)
    note.status = "cancelled"
    note.ended_at = utcnow()
    ledger_repo.post(
        session,
        "commitment_release",
        postings.commitment_release([(investor_id, note.amount_cents)]),
        f"note {investment_id} in loan {loan.loan_id} cancelled by the investor",
        loan_id=loan.loan_id,
        investment_id=investment_id,
    )
    session.flush()
    return note, loan.status


def refusal(session: Session, loan_id: int, amount_cents: int) -> PeerlendError:
    """The funding UPDATE matched nothing: say why (this path is the error path only)."""
    loan = repo.loan_row(session, loan_id)
    if loan is None:
        return NotFound(f"loan {loan_id} not found")
    if not lifecycle.takes_investments(loan.status):
        return LoanNotOpen(f"loan {loan_id} is {loan.status} and no longer takes investments")
    remaining = loan.amount_cents - loan.funded_amount_cents
    return ExceedsLoanAmount(
        f"loan {loan_id} needs only {format_cents(remaining)} more; you asked to invest {format_cents(amount_cents)}"
    )


def _no_cash(session: Session, investor_id: int, amount_cents: int) -> InsufficientFunds:
    cash = ledger_repo.natural_balances(session, [Account.investor_cash(investor_id)])
    available = next(iter(cash.values()))
    return InsufficientFunds(
        f"available cash is {format_cents(available)}; deposit more to invest {format_cents(amount_cents)}"
    )


def no_cash(session: Session, investor_id: int, amount_cents: int) -> InsufficientFunds:
    return _no_cash(session, investor_id, amount_cents)
