"""SQL for loans, their notes (investments) and their schedules."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.db.tables import Installment, Investment, Loan


def add_loan(session: Session, loan: Loan) -> Loan:
    session.add(loan)
    session.flush()
    return loan


def get_loan(session: Session, loan_id: int, *, lock: bool = False) -> Loan | None:
    query = select(Loan).where(Loan.loan_id == loan_id)
    if lock:
        query = query.with_for_update()
    return session.scalars(query).first()


def list_loans(
    session: Session,
    *,
    status: str | None,
    min_rate_bps: int | None,
    max_rate_bps: int | None,
    borrower_id: int | None,
    before_loan_id: int | None,
    limit: int,
) -> list[Loan]:
    """Newest first, keyset-paginated on loan_id."""
    query = select(Loan)
    if status is not None:
        query = query.where(Loan.status == status)
    if min_rate_bps is not None:
        query = query.where(Loan.interest_rate_bps >= min_rate_bps)
    if max_rate_bps is not None:
        query = query.where(Loan.interest_rate_bps <= max_rate_bps)
    if borrower_id is not None:
        query = query.where(Loan.borrower_id == borrower_id)
    if before_loan_id is not None:
        query = query.where(Loan.loan_id < before_loan_id)
    return list(session.scalars(query.order_by(Loan.loan_id.desc()).limit(limit)))


def listed_before(session: Session, cutoff: datetime) -> list[int]:
    rows = session.scalars(
        select(Loan.loan_id).where(Loan.status == "listed", Loan.created_at < cutoff).order_by(Loan.loan_id)
    )
    return list(rows)


def add_investment(session: Session, investment: Investment) -> Investment:
    session.add(investment)
    session.flush()
    return investment


def notes_of_loan(session: Session, loan_id: int) -> list[Investment]:
    """The loan's notes, oldest first: the order that breaks ties in pro-rata splits."""
    return list(
        session.scalars(select(Investment).where(Investment.loan_id == loan_id).order_by(Investment.investment_id))
    )


def notes_of_investor(session: Session, investor_id: int) -> list[tuple[Investment, Loan]]:
    rows = session.execute(
        select(Investment, Loan)
        .join(Loan, Loan.loan_id == Investment.loan_id)
        .where(Investment.investor_id == investor_id)
        .order_by(Investment.investment_id)
    ).all()
    return [(row[0], row[1]) for row in rows]


def investor_has_note(session: Session, investor_id: int, loan_id: int) -> bool:
    found = session.scalar(
        select(func.count())
        .select_from(Investment)
        .where(Investment.investor_id == investor_id, Investment.loan_id == loan_id)
    )
    return bool(found)


def add_installments(session: Session, installments: Sequence[Installment]) -> None:
    session.add_all(installments)
    session.flush()


def installments_of_loan(session: Session, loan_id: int) -> list[Installment]:
    return list(session.scalars(select(Installment).where(Installment.loan_id == loan_id).order_by(Installment.number)))
