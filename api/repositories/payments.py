"""SQL for payments, their distributions and cash transfers."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.db.tables import CashTransfer, Payment, PaymentDistribution


def add_payment(session: Session, payment: Payment) -> Payment:
    session.add(payment)
    session.flush()
    return payment


def add_distributions(session: Session, distributions: list[PaymentDistribution]) -> None:
    session.add_all(distributions)
    session.flush()


def payments_of_loan(session: Session, loan_id: int) -> list[Payment]:
    return list(session.scalars(select(Payment).where(Payment.loan_id == loan_id).order_by(Payment.payment_id)))


def principal_received_by_note(session: Session, investment_ids: list[int]) -> dict[int, tuple[int, int]]:
    """(principal, interest) received so far per note."""
    if not investment_ids:
        return {}
    rows = session.execute(
        select(
            PaymentDistribution.investment_id,
            func.coalesce(func.sum(PaymentDistribution.principal_cents), 0),
            func.coalesce(func.sum(PaymentDistribution.interest_cents), 0),
        )
        .where(PaymentDistribution.investment_id.in_(investment_ids))
        .group_by(PaymentDistribution.investment_id)
    ).all()
    return {investment_id: (int(p), int(i)) for investment_id, p, i in rows}


def add_transfer(session: Session, transfer: CashTransfer) -> CashTransfer:
    session.add(transfer)
    session.flush()
    return transfer
