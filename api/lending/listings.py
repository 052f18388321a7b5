"""The end of a listing that never funds: the borrower cancels it, or it expires after `listing_days`.
Either way every investor's committed cash goes back to their available cash in one balanced ledger
transaction, under the loan's row lock (the same lock an investment takes, so a listing cannot be
cancelled and funded at once)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from api.identity import repository as identity_repo
from api.identity.caller import Caller
from api.kit.clock import utcnow
from api.kit.db import Database
from api.kit.errors import NotFound
from api.kit.money import format_cents
from api.ledger import postings
from api.ledger import repository as ledger_repo
from api.lending import repository as repo
from api.lending.errors import LoanNotOpen
from api.lending.tables import Loan
from api.notifications.service import notify
from api.settings import Settings


def cancel(session: Session, caller: Caller, loan_id: int) -> Loan:
    loan = repo.get_loan(session, loan_id, lock=True)
    if loan is None or not caller.owns_borrower_side(loan.borrower_id):
        raise NotFound(f"loan {loan_id} not found")
    if loan.status != "listed":
        raise LoanNotOpen(f"loan {loan_id} is {loan.status}; only a listed loan can be cancelled")
    _close(session, loan, "cancelled")
    return loan


def expire_stale(database: Database, settings: Settings) -> list[int]:
    """Expire every listing older than `listing_days`, each in its own transaction; returns the ids."""
    cutoff = utcnow() - timedelta(days=settings.listing_days)
    with database.transaction(write=False) as session:
        candidates = repo.listed_before(session, cutoff)
    expired = []
    for loan_id in candidates:
        with database.transaction() as session:
            loan = repo.get_loan(session, loan_id, lock=True)
            if loan is not None and loan.status == "listed":  # re-checked under the lock
                _close(session, loan, "expired")
                expired.append(loan_id)
    return expired


def _close(session: Session, loan: Loan, status: str) -> None:
    committed = repo.committed_by_investor(session, loan.loan_id)
    if committed:
        ledger_repo.post(
            session,
            "commitment_release",
            postings.commitment_release(sorted(committed.items())),
            f"loan {loan.loan_id} {status}: commitments returned",
            loan_id=loan.loan_id,
        )
    now = utcnow()
    loan.status = status
    loan.closed_at = now
    loan.updated_at = now
    users = identity_repo.investor_user_ids(session, sorted(committed))
    label = f"Loan #{loan.loan_id} (${format_cents(loan.amount_cents)})"
    notify(
        session,
        [(loan.borrower_id, f"loan_{status}", loan.loan_id, f"{label} was {status} before it was fully funded.")]
        + [
            (
                users[investor_id],
                f"loan_{status}",
                loan.loan_id,
                f"{label} was {status} before it was fully funded; "
                f"${format_cents(amount)} is back in your available cash.",
            )
            for investor_id, amount in sorted(committed.items())
        ],
    )
    session.flush()
