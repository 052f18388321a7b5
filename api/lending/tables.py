"""Lending: loan requests and listings, and the notes investors buy in them."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, CheckConstraint, Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from api.db.base import Base, BigId, UtcDateTime, created_at_column, updated_at_column


class Loan(Base):
    __tablename__ = "loans"

    loan_id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    borrower_id: Mapped[int] = mapped_column(ForeignKey("users.user_id"), nullable=False, index=True)
    amount_cents: Mapped[int] = mapped_column(BigInteger, nullable=False)
    interest_rate_bps: Mapped[int] = mapped_column(Integer, nullable=False)
    term_months: Mapped[int] = mapped_column(Integer, nullable=False)
    purpose: Mapped[str] = mapped_column(String(200), nullable=False)
    grade: Mapped[str] = mapped_column(String(1), nullable=False)
    probability_of_default_ppm: Mapped[int] = mapped_column(Integer, nullable=False)
    score_model_version: Mapped[str] = mapped_column(String(64), nullable=False)
    score_reasons: Mapped[str] = mapped_column(Text, nullable=False, default="[]")
    status: Mapped[str] = mapped_column(String(16), nullable=False)
    # Running total under the loan's row lock; equals the ledger's commitments to this loan
    # (a test checks it), kept so the funding check is a single locked-row update.
    funded_amount_cents: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    monthly_payment_cents: Mapped[int] = mapped_column(BigInteger, nullable=False)
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()
    funded_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    disbursed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    first_due_date: Mapped[date | None] = mapped_column(Date)
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())

    __table_args__ = (
        CheckConstraint("amount_cents > 0", name="ck_loans_amount_positive"),
        CheckConstraint(
            "funded_amount_cents >= 0 AND funded_amount_cents <= amount_cents", name="ck_loans_funded_range"
        ),
        CheckConstraint("interest_rate_bps > 0 AND interest_rate_bps <= 3600", name="ck_loans_rate_range"),
        CheckConstraint("term_months > 0", name="ck_loans_term_positive"),
        CheckConstraint(
            "status IN ('listed', 'funded', 'active', 'repaid', 'expired', 'cancelled', 'late', 'charged_off')",
            name="ck_loans_status",
        ),
        Index("ix_loans_interest_rate_bps", "interest_rate_bps"),
        Index("ix_loans_status", "status"),
    )


class Investment(Base):
    """A note: an investor's fractional share of one loan."""

    __tablename__ = "investments"

    investment_id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    loan_id: Mapped[int] = mapped_column(ForeignKey("loans.loan_id"), nullable=False, index=True)
    investor_id: Mapped[int] = mapped_column(ForeignKey("investors.investor_id"), nullable=False, index=True)
    amount_cents: Mapped[int] = mapped_column(BigInteger, nullable=False)
    created_at: Mapped[datetime] = created_at_column()

    __table_args__ = (CheckConstraint("amount_cents > 0", name="ck_investments_amount_positive"),)
