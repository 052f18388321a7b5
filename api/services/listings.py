"""The end of a listing that never funds: the borrower cancels it, or it expires after
`listing_days`. Either way every investor's committed cash goes back to their available cash in
one balanced ledger transaction, under the loan's row lock (the same lock an investment takes, so
a listing cannot be cancelled and funded at once)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from api.clock import utcnow
from api.db.tables import Loan, User
from api.domain import ledger
from api.domain.money import format_cents
from api.errors import LoanNotOpen, NotFound
from api.repositories import ledger as ledger_repo
from api.repositories import loans as loans_repo
from api.repositories import users as users_repo
from api.services.funding import notes_by_investor
from api.services.notifications import notify
from api.settings import Settings


def cancel(session: Session, user: User, loan_id: int) -> Loan:
    loan = loans_repo.get_loan(session, loan_id, lock=True)
    if loan is None or loan.borrower_id != user.user_id:
        raise NotFound(f"loan {loan_id} not found")
    if loan.status != "listed":
        raise LoanNotOpen(f"loan {loan_id} is {loan.status}; only a listed loan can be cancelled")
    _close(session, loan, "cancelled")
    return loan


def expire_stale(session: Session, settings: Settings) -> list[int]:
    """Expire every listing older than `listing_days`; returns the loan ids expired."""
    cutoff = utcnow() - timedelta(days=settings.listing_days)
    expired = []
    for loan_id in loans_repo.listed_before(session, cutoff):
        loan = loans_repo.get_loan(session, loan_id, lock=True)
        if loan is not None and loan.status == "listed":  # re-checked under the lock
            _close(session, loan, "expired")
            expired.append(loan_id)
    return expired


def _close(session: Session, loan: Loan, status: str) -> None:
    committed = notes_by_investor(loans_repo.notes_of_loan(session, loan.loan_id))
    if committed:
        ledger_repo.post_transaction(
            session,
            "commitment_release",
            ledger.commitment_release(sorted(committed.items())),
            f"loan {loan.loan_id} {status}: commitments returned",
            loan_id=loan.loan_id,
        )
    loan.status = status
    loan.closed_at = utcnow()
    investors = users_repo.get_investors(session, sorted(committed))
    label = f"Loan #{loan.loan_id} (${format_cents(loan.amount_cents)})"
    notify(
        session,
        [(loan.borrower_id, f"loan_{status}", loan.loan_id, f"{label} was {status} before it was fully funded.")]
        + [
            (
                investor.user_id,
                f"loan_{status}",
                loan.loan_id,
                f"{label} was {status} before it was fully funded; "
                f"${format_cents(committed[investor.investor_id])} is back in your available cash.",
            )
            for investor in investors
        ],
    )
    session.flush()
