"""Servicing's own tables: late fees assessed, each loan's servicing snapshot, notes written off at charge-off,
and the daily job's runs."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Date, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from api.db.base import Base, BigId, UtcDateTime, created_at_column, updated_at_column


class LoanFee(Base):
    """A late fee: at most one per installment (the unique key makes the daily job idempotent)."""

    __tablename__ = "loan_fees"

    fee_id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    loan_id: Mapped[int] = mapped_column(ForeignKey("loans.loan_id"), nullable=False)
    installment_number: Mapped[int] = mapped_column(Integer, nullable=False)
    assessed_on: Mapped[date] = mapped_column(Date, nullable=False)
    amount_cents: Mapped[int] = mapped_column(BigInteger, nullable=False)
    reason: Mapped[str] = mapped_column(String(200), nullable=False)
    created_at: Mapped[datetime] = created_at_column()

    __table_args__ = (UniqueConstraint("loan_id", "installment_number", name="uq_loan_fees_installment"),)


class LoanServicingState(Base):
    """The replay's result for one loan as of its last servicing (a payment or the daily job)."""

    __tablename__ = "loan_servicing"

    loan_id: Mapped[int] = mapped_column(ForeignKey("loans.loan_id"), primary_key=True)
    as_of: Mapped[date] = mapped_column(Date, nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False)
    days_past_due: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    principal_cents: Mapped[int] = mapped_column(BigInteger, nullable=False)
    interest_cents: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    fees_cents: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    excess_cents: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    past_due_cents: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    next_due_date: Mapped[date | None] = mapped_column(Date)
    next_due_cents: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    payoff_cents: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    charged_off_on: Mapped[date | None] = mapped_column(Date)
    charged_off_principal_cents: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    recovered_cents: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    updated_at: Mapped[datetime] = updated_at_column()

    __table_args__ = (Index("ix_loan_servicing_status", "status"),)


class NoteChargeOff(Base):
    """A note's outstanding principal written off when its loan was charged off."""

    __tablename__ = "note_charge_offs"

    investment_id: Mapped[int] = mapped_column(ForeignKey("investments.investment_id"), primary_key=True)
    loan_id: Mapped[int] = mapped_column(ForeignKey("loans.loan_id"), nullable=False, index=True)
    investor_id: Mapped[int] = mapped_column(ForeignKey("investors.investor_id"), nullable=False, index=True)
    principal_cents: Mapped[int] = mapped_column(BigInteger, nullable=False)
    charged_off_on: Mapped[date] = mapped_column(Date, nullable=False)
    created_at: Mapped[datetime] = created_at_column()


class ServicingRun(Base):
    """One day's servicing run: restartable (each loan commits on its own), done when finished_at is set."""

    __tablename__ = "servicing_runs"

    run_date: Mapped[date] = mapped_column(Date, primary_key=True)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    loans: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    changes: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    fees: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    charge_offs: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
