"""Cash: money moved between a user's bank and the platform through the payment processor."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from api.db.base import Base, BigId, created_at_column


class CashTransfer(Base):
    __tablename__ = "cash_transfers"

    transfer_id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.user_id"), nullable=False, index=True)
    direction: Mapped[str] = mapped_column(String(16), nullable=False)
    amount_cents: Mapped[int] = mapped_column(BigInteger, nullable=False)
    processor_reference: Mapped[str] = mapped_column(String(64), nullable=False)
    created_at: Mapped[datetime] = created_at_column()

    __table_args__ = (
        CheckConstraint("amount_cents > 0", name="ck_cash_transfers_amount_positive"),
        CheckConstraint("direction IN ('deposit', 'withdrawal', 'disbursement')", name="ck_cash_transfers_direction"),
    )
