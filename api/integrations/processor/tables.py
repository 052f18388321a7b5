"""Our side of the payment processor: every transfer we ask it for (the outbox and its lifecycle), and every
webhook event it sent us (deduplicated by event id)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, CheckConstraint, Date, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from api.db.base import Base, BigId, UtcDateTime, created_at_column, updated_at_column


class ProcessorTransfer(Base):
    """One transfer through the processor. Written in the same transaction as the ledger's pending entry: it is
    the outbox the worker submits from (with `client_reference` as the processor's idempotency key), and then
    the transfer's state as the processor reports it (settled, or returned with an ACH return code)."""

    __tablename__ = "processor_transfers"

    transfer_ref_id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    client_reference: Mapped[str] = mapped_column(String(40), nullable=False, unique=True)
    # deposit | withdrawal | disbursement | repayment | refund
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    # collect (from the user's bank) | payout (to it)
    direction: Mapped[str] = mapped_column(String(8), nullable=False)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.user_id"), nullable=False)
    amount_cents: Mapped[int] = mapped_column(BigInteger, nullable=False)
    investor_id: Mapped[int | None] = mapped_column(ForeignKey("investors.investor_id"))
    loan_id: Mapped[int | None] = mapped_column(ForeignKey("loans.loan_id"))
    cash_transfer_id: Mapped[int | None] = mapped_column(ForeignKey("cash_transfers.transfer_id"))
    # queued (in the outbox) | submitted | settled | returned
    status: Mapped[str] = mapped_column(String(12), nullable=False, default="queued")
    processor_reference: Mapped[str | None] = mapped_column(String(64), unique=True)
    return_code: Mapped[str | None] = mapped_column(String(8))
    # A return the ledger could not take (the money was already spent): reconciliation reports it.
    exception: Mapped[str | None] = mapped_column(String(200))
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    last_error: Mapped[str | None] = mapped_column(String(200))
    requested_on: Mapped[date] = mapped_column(Date, nullable=False)
    submitted_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    settled_on: Mapped[date | None] = mapped_column(Date)
    returned_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()

    __table_args__ = (
        CheckConstraint("amount_cents > 0", name="ck_processor_transfers_amount_positive"),
        CheckConstraint(
            "kind IN ('deposit', 'withdrawal', 'disbursement', 'repayment', 'refund')",
            name="ck_processor_transfers_kind",
        ),
        CheckConstraint("direction IN ('collect', 'payout')", name="ck_processor_transfers_direction"),
        CheckConstraint(
            "status IN ('queued', 'submitted', 'settled', 'returned')", name="ck_processor_transfers_status"
        ),
        Index("ix_processor_transfers_status", "status"),
        Index("ix_processor_transfers_loan_id", "loan_id"),
        Index("ix_processor_transfers_investor_id", "investor_id"),
    )


class ProcessorEvent(Base):
    """A webhook event from the processor, kept by its id: a duplicate delivery is acknowledged and ignored."""

    __tablename__ = "processor_events"

    event_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    event_type: Mapped[str] = mapped_column(String(32), nullable=False)
    processor_reference: Mapped[str] = mapped_column(String(64), nullable=False)
    # applied | ignored (stale or superseded by a later state) | exception (see the transfer)
    outcome: Mapped[str] = mapped_column(String(16), nullable=False)
    received_at: Mapped[datetime] = created_at_column()
