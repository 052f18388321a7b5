"""Notifications: what the platform tells each user (the in-app feed)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from api.db.base import Base, BigId, UtcDateTime, created_at_column, updated_at_column


class Notification(Base):
    __tablename__ = "notifications"

    notification_id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.user_id"), nullable=False, index=True)
    kind: Mapped[str] = mapped_column(String(32), nullable=False)
    loan_id: Mapped[int | None] = mapped_column(ForeignKey("loans.loan_id"))
    message: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()
    read_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
