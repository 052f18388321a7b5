"""SQL for notifications."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.db.tables import Notification


def add_notifications(session: Session, notifications: list[Notification]) -> None:
    session.add_all(notifications)
    session.flush()


def notifications_of_user(session: Session, user_id: int, limit: int) -> list[Notification]:
    return list(
        session.scalars(
            select(Notification)
            .where(Notification.user_id == user_id)
            .order_by(Notification.notification_id.desc())
            .limit(limit)
        )
    )
