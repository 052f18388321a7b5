"""Payments: the schedule a loan is repaid on, the payments made, and their split across the notes."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, CheckConstraint, Date, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from api.db.base import Base, BigId, UtcDateTime, created_at_column, updated_at_column


class Installment(Base):
    """One row of a loan's amortization schedule, created when the loan is disbursed."""

    __tablename__ = "installments"

    installment_id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    loan_id: Mapped[int] = mapped_column(ForeignKey("loans.loan_id"), nullable=False)
    number: Mapped[int] = mapped_column(Integer, nullable=False)
    due_date: Mapped[date] = mapped_column(Date, nullable=False)
    payment_cents: Mapped[int] = mapped_column(BigInteger, nullable=False)
    principal_cents: Mapped[int] = mapped_column(BigInteger, nullable=False)
    interest_cents: Mapped[int] = mapped_column(BigInteger, nullable=False)
    balance_after_cents: Mapped[int] = mapped_column(BigInteger, nullable=False)
    paid_principal_cents: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    paid_interest_cents: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    paid_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = updated_at_column()

    __table_args__ = (UniqueConstraint("loan_id", "number", name="uq_installments_loan_number"),)


class Payment(Base):
    __tablename__ = "payments"

    payment_id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    loan_id: Mapped[int] = mapped_column(ForeignKey("loans.loan_id"), nullable=False, index=True)
    payer_user_id: Mapped[int] = mapped_column(ForeignKey("users.user_id"), nullable=False)
    amount_cents: Mapped[int] = mapped_column(BigInteger, nullable=False)
    principal_cents: Mapped[int] = mapped_column(BigInteger, nullable=False)
    interest_cents: Mapped[int] = mapped_column(BigInteger, nullable=False)
    fees_cents: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    # Servicing (api/payments/servicing.py): the prepayment part of principal_cents, money received after
    # charge-off, money beyond everything owed (held for the borrower), and the platform's servicing fee
    # taken from the note holders' share.
    prepayment_cents: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0, server_default="0")
    recovery_cents: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0, server_default="0")
    excess_cents: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0, server_default="0")
    servicing_fee_cents: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0, server_default="0")
    # settled: applied to the loan, counts in the servicing replay (whether its money has cleared is its
    # processor transfer's status) | returned (reversed; left out of the replay) | superseded (an earlier
    # payment was returned, so this one was reversed and applied again as a new row for the same transfer).
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="settled", server_default="settled")
    transfer_ref_id: Mapped[int | None] = mapped_column(ForeignKey("processor_transfers.transfer_ref_id"), index=True)
    return_code: Mapped[str | None] = mapped_column(String(8))
    processor_reference: Mapped[str] = mapped_column(String(64), nullable=False)
    date: Mapped[date] = mapped_column(Date, nullable=False)
    created_at: Mapped[datetime] = created_at_column()

    __table_args__ = (
        CheckConstraint("amount_cents > 0", name="ck_payments_amount_positive"),
        CheckConstraint(
            "principal_cents + interest_cents + fees_cents + recovery_cents + excess_cents = amount_cents",
            name="ck_payments_parts_sum",
        ),
        CheckConstraint("prepayment_cents >= 0 AND prepayment_cents <= principal_cents", name="ck_payments_prepayment"),
        CheckConstraint("status IN ('settled', 'returned', 'superseded')", name="ck_payments_status"),
    )


class PaymentDistribution(Base):
    """The part of one payment credited to one note."""

    __tablename__ = "payment_distributions"

    distribution_id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    payment_id: Mapped[int] = mapped_column(ForeignKey("payments.payment_id"), nullable=False, index=True)
    investment_id: Mapped[int] = mapped_column(ForeignKey("investments.investment_id"), nullable=False)
    investor_id: Mapped[int] = mapped_column(ForeignKey("investors.investor_id"), nullable=False, index=True)
    principal_cents: Mapped[int] = mapped_column(BigInteger, nullable=False)
    interest_cents: Mapped[int] = mapped_column(BigInteger, nullable=False)
    fees_cents: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0, server_default="0")
    recovery_cents: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0, server_default="0")
    # The platform's servicing (or, on recoveries, collection) fee kept from this note's share.
    servicing_fee_cents: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0, server_default="0")
