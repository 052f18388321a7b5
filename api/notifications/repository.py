"""SQL for notifications, the outbox and webhook subscriptions."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, insert, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from api.identity.tables import User
from api.notifications.tables import Notification, OutboxMessage, WebhookSubscription

NOTIFICATIONS = cast(Table, Notification.__table__)
OUTBOX = cast(Table, OutboxMessage.__table__)
SUBSCRIPTIONS = cast(Table, WebhookSubscription.__table__)
USERS = cast(Table, User.__table__)


def _insert_ignoring_duplicates(session: Session, table: Table, rows: list[dict[str, Any]]) -> None:
    """INSERT ... ON CONFLICT DO NOTHING: a notice already written for the same dedupe key stays the only one."""
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    statement = (pg_insert(table) if dialect == "postgresql" else sqlite_insert(table)).on_conflict_do_nothing()
    session.execute(statement, rows)


def add_notifications(session: Session, rows: list[dict[str, object]]) -> None:
    if not rows:
        return
    if any(row.get("dedupe_key") for row in rows):
        _insert_ignoring_duplicates(session, NOTIFICATIONS, [dict(r) for r in rows])
    else:
        session.execute(insert(NOTIFICATIONS), rows)


def add_outbox(session: Session, rows: list[dict[str, Any]]) -> None:
    _insert_ignoring_duplicates(session, OUTBOX, rows)


def notifications_of_user(
    session: Session, user_id: int, *, limit: int, before_id: int | None, unread_only: bool
) -> list[Notification]:
    query = select(Notification).where(Notification.user_id == user_id)
    if before_id is not None:
        query = query.where(Notification.notification_id < before_id)
    if unread_only:
        query = query.where(Notification.read_at.is_(None))
    return list(session.scalars(query.order_by(Notification.notification_id.desc()).limit(limit)))


def notification_of_user(session: Session, user_id: int, notification_id: int) -> Notification | None:
    return session.scalars(
        select(Notification).where(Notification.notification_id == notification_id, Notification.user_id == user_id)
    ).first()


def contacts(session: Session, user_ids: Sequence[int]) -> dict[int, tuple[str, str]]:
    """(email, username) per user."""
    if not user_ids:
        return {}
    rows: Any = session.execute(
        select(USERS.c.user_id, USERS.c.email, USERS.c.username).where(USERS.c.user_id.in_(list(user_ids)))
    ).all()
    return {int(u): (str(e), str(n)) for u, e, n in rows}


def subscriptions_for(session: Session, user_ids: Sequence[int]) -> list[Any]:
    if not user_ids:
        return []
    return list(
        session.execute(
            select(SUBSCRIPTIONS.c.subscription_id, SUBSCRIPTIONS.c.user_id, SUBSCRIPTIONS.c.events).where(
                SUBSCRIPTIONS.c.user_id.in_(list(user_ids)), SUBSCRIPTIONS.c.disabled_at.is_(None)
            )
        ).all()
    )


def add_subscription(session: Session, **values: Any) -> WebhookSubscription:
    subscription = WebhookSubscription(**values)
    session.add(subscription)
    session.flush()
    return subscription


def subscriptions_of_user(session: Session, user_id: int) -> list[WebhookSubscription]:
    return list(
        session.scalars(
            select(WebhookSubscription)
            .where(WebhookSubscription.user_id == user_id, WebhookSubscription.disabled_at.is_(None))
            .order_by(WebhookSubscription.subscription_id)
        )
    )


def subscription_of_user(session: Session, user_id: int, subscription_id: int) -> WebhookSubscription | None:
    return session.scalars(
        select(WebhookSubscription).where(
            WebhookSubscription.subscription_id == subscription_id,
            WebhookSubscription.user_id == user_id,
            WebhookSubscription.disabled_at.is_(None),
        )
    ).first()


def claim_due(session: Session, *, now: datetime, lease_until: datetime, worker: str, limit: int) -> list[int]:
    """Lease up to `limit` due messages to `worker`. On PostgreSQL the candidates are locked with SKIP LOCKED,
    so two workers never wait on each other or claim the same message; SQLite has one writer at a time."""
    due = (
        select(OUTBOX.c.message_id)
        .where(
            OUTBOX.c.state == "pending",
            OUTBOX.c.next_attempt_at <= now,
            or_(OUTBOX.c.lease_until.is_(None), OUTBOX.c.lease_until < now),
        )
        .order_by(OUTBOX.c.next_attempt_at, OUTBOX.c.message_id)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    found: Any = session.scalars(due)
    ids = [int(r) for r in found]
    if ids:
        session.execute(
            update(OUTBOX).where(OUTBOX.c.message_id.in_(ids)).values(lease_until=lease_until, leased_by=worker)
        )
    return ids


def messages(session: Session, ids: Sequence[int]) -> list[Any]:
    return list(
        session.execute(
            select(OUTBOX, SUBSCRIPTIONS.c.url, SUBSCRIPTIONS.c.secret, SUBSCRIPTIONS.c.disabled_at)
            .outerjoin(SUBSCRIPTIONS, SUBSCRIPTIONS.c.subscription_id == OUTBOX.c.subscription_id)
            .where(OUTBOX.c.message_id.in_(list(ids)))
            .order_by(OUTBOX.c.message_id)
        ).all()
    )


def finish(session: Session, message_id: int, worker: str, **values: Any) -> bool:
    """Record a delivery attempt's outcome, only if this worker still holds the lease."""
    result: Any = session.execute(
        update(OUTBOX)
        .where(OUTBOX.c.message_id == message_id, OUTBOX.c.leased_by == worker, OUTBOX.c.state == "pending")
        .values(lease_until=None, leased_by=None, attempts=OUTBOX.c.attempts + 1, **values)
    )
    return bool(result.rowcount)
