"""Notifications to users (stored; read through GET /notifications)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from api.kit.clock import utcnow
from api.notifications import repository as repo
from api.notifications.tables import Notification


def notify(session: Session, messages: Sequence[tuple[int, str, int | None, str]]) -> None:
    """`messages` holds (user_id, kind, loan_id, text)."""
    now = utcnow()
    repo.add_notifications(
        session,
        [
            {
                "user_id": user_id,
                "kind": kind,
                "loan_id": loan_id,
                "message": text,
                "created_at": now,
                "updated_at": now,
            }
            for user_id, kind, loan_id, text in messages
        ],
    )


def for_user(
    session: Session, user_id: int, *, limit: int, before_id: int | None = None, unread_only: bool = False
) -> list[Notification]:
    return repo.notifications_of_user(session, user_id, limit=limit, before_id=before_id, unread_only=unread_only)
