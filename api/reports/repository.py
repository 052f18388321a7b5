"""SQL for aggregate, de-identified reports (analysts)."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.lending.tables import Loan


def loan_book(session: Session) -> list[tuple[str, str, int, int, int]]:
    """(status, grade, loans, amount, funded) in cents."""
    rows = session.execute(
        select(
            Loan.status,
            Loan.grade,
            func.count(),
            func.coalesce(func.sum(Loan.amount_cents), 0),
            func.coalesce(func.sum(Loan.funded_amount_cents), 0),
        )
        .group_by(Loan.status, Loan.grade)
        .order_by(Loan.status, Loan.grade)
    ).all()
    return [(s, g, int(n), int(a), int(f)) for s, g, n, a, f in rows]
