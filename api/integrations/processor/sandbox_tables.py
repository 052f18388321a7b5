"""The sandbox processor's own books, as an external processor keeps them on its side: its transfers and the
webhook events it owes us. The platform's code never reads these; only the sandbox does."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Date, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from api.db.base import Base, BigId, UtcDateTime, created_at_column


class SandboxTransfer(Base):
    __tablename__ = "sandbox_transfers"

    reference: Mapped[str] = mapped_column(String(64), primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    direction: Mapped[str] = mapped_column(String(8), nullable=False)
    user_id: Mapped[int] = mapped_column(BigInteger, nullable=False)
    amount_cents: Mapped[int] = mapped_column(BigInteger, nullable=False)
    submitted_on: Mapped[date] = mapped_column(Date, nullable=False)
    settles_on: Mapped[date] = mapped_column(Date, nullable=False)
    # pending | settled | returned
    status: Mapped[str] = mapped_column(String(12), nullable=False, default="pending")
    # A return decided at submission (by the amount's cents, or forced): its code and the day it arrives.
    return_code: Mapped[str | None] = mapped_column(String(8))
    returns_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = created_at_column()

    __table_args__ = (Index("ix_sandbox_transfers_status", "status"),)


class SandboxEvent(Base):
    __tablename__ = "sandbox_events"

    sequence: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    reference: Mapped[str] = mapped_column(String(64), nullable=False)
    event_type: Mapped[str] = mapped_column(String(32), nullable=False)
    body: Mapped[str] = mapped_column(Text, nullable=False)
    occurred_on: Mapped[date] = mapped_column(Date, nullable=False)
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    delivered_at: Mapped[datetime | None] = mapped_column(UtcDateTime())

    __table_args__ = (Index("ix_sandbox_events_delivered_at", "delivered_at"),)
