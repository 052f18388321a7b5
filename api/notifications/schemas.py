"""Notifications' response bodies."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel


class NotificationPublic(BaseModel):
    notification_id: int
    kind: str
    loan_id: int | None
    message: str
    created_at: datetime
    read: bool
