"""Notifications to users (stored; read through GET /notifications)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from api.clock import utcnow
from api.db.tables import Notification
from api.repositories import notifications as notifications_repo


def notify(session: Session, messages: Sequence[tuple[int, str, int | None, str]]) -> None:
    """`messages` holds (user_id, kind, loan_id, text)."""
    now = utcnow()
    notifications_repo.add_notifications(
        session,
        [
            Notification(user_id=user_id, kind=kind, loan_id=loan_id, message=text, created_at=now)
            for user_id, kind, loan_id, text in messages
        ],
    )


def for_user(session: Session, user_id: int, limit: int) -> list[Notification]:
    return notifications_repo.notifications_of_user(session, user_id, limit)
