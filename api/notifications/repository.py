"""SQL for notifications."""

from __future__ import annotations

from typing import cast

from sqlalchemy import Table, insert, select
from sqlalchemy.orm import Session

from api.notifications.tables import Notification

NOTIFICATIONS = cast(Table, Notification.__table__)


def add_notifications(session: Session, rows: list[dict[str, object]]) -> None:
    if rows:
        session.execute(insert(NOTIFICATIONS), rows)


def notifications_of_user(
    session: Session, user_id: int, *, limit: int, before_id: int | None, unread_only: bool
) -> list[Notification]:
    query = select(Notification).where(Notification.user_id == user_id)
    if before_id is not None:
        query = query.where(Notification.notification_id < before_id)
    if unread_only:
        query = query.where(Notification.read_at.is_(None))
    return list(session.scalars(query.order_by(Notification.notification_id.desc()).limit(limit)))
