"""SQL for schedules, payments and their distributions."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.payments.tables import Installment, Payment, PaymentDistribution


def add_installments(session: Session, installments: Sequence[Installment]) -> None:
    session.add_all(installments)
    session.flush()


def installments_of_loan(session: Session, loan_id: int) -> list[Installment]:
    return list(session.scalars(select(Installment).where(Installment.loan_id == loan_id).order_by(Installment.number)))


def add_payment(session: Session, payment: Payment) -> Payment:
    session.add(payment)
    session.flush()
    return payment


def add_distributions(session: Session, distributions: list[PaymentDistribution]) -> None:
    session.add_all(distributions)
    session.flush()


def payments_of_loan(session: Session, loan_id: int) -> list[Payment]:
    return list(session.scalars(select(Payment).where(Payment.loan_id == loan_id).order_by(Payment.payment_id)))


def live_payment_of_transfer(session: Session, transfer_ref_id: int) -> Payment | None:
    """The payment a processor debit paid: the one applied to the loan (a re-allocation supersedes a payment's
    row with a new one for the same transfer)."""
    return session.scalar(
        select(Payment).where(Payment.transfer_ref_id == transfer_ref_id, Payment.status == "settled")
    )


def net_by_investor(session: Session, payment_id: int) -> list[tuple[int, int]]:
    """What a payment credited each note holder, net of the servicing fee, by investor."""
    rows = session.execute(
        select(
            PaymentDistribution.investor_id,
            func.sum(
                PaymentDistribution.principal_cents
                + PaymentDistribution.interest_cents
                + PaymentDistribution.fees_cents
                + PaymentDistribution.recovery_cents
                - PaymentDistribution.servicing_fee_cents
            ),
        )
        .where(PaymentDistribution.payment_id == payment_id)
        .group_by(PaymentDistribution.investor_id)
        .order_by(PaymentDistribution.investor_id)
    ).all()
    return [(int(i), int(n)) for i, n in rows if n]
