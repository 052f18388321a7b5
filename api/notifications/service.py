"""Notices to users: the in-app feed (GET /notifications) and, through the outbox, email and webhooks.

`announce` writes, in the caller's transaction, one feed notification per party plus one outbox row per party
and channel (email; each webhook subscription that wants the event). Every row carries a dedupe key
(`<event>:<loan>:<user>[:<channel>[:<subscription>]]`) with a unique index, and is inserted with ON CONFLICT DO
NOTHING: announcing the same event again (a retried job, a second worker) adds nothing. The outbox is
delivered after commit by api/notifications/outbox.py."""

from __future__ import annotations

import json
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from api.integrations.webhooks.security import UnsafeWebhookUrl, resolve
from api.kit.clock import utcnow
from api.kit.errors import InvalidInput, NotFound
from api.notifications import repository as repo
from api.notifications.tables import Notification, WebhookSubscription
from api.settings import Settings


def notify(session: Session, messages: Sequence[tuple[int, str, int | None, str]]) -> None:
    """Feed notifications only. `messages` holds (user_id, kind, loan_id, text)."""
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


@dataclass(frozen=True, slots=True)
class Notice:
    """What one party is told about one event, on every channel."""

    user_id: int
    text: str  # the feed's message and the email's body
    subject: str
    data: dict[str, Any]  # the webhook event's data for this party


def announce(session: Session, *, event: str, kind: str, loan_id: int, notices: Sequence[Notice]) -> None:
    now = utcnow()
    users = sorted({n.user_id for n in notices})
    contacts = repo.contacts(session, users)
    wanted: dict[int, list[int]] = {}
    for subscription_id, user_id, events in repo.subscriptions_for(session, users):
        if event in str(events).split():
            wanted.setdefault(int(user_id), []).append(int(subscription_id))
    feed, outbox = [], []
    for notice in notices:
        base = f"{event}:{loan_id}:{notice.user_id}"
        feed.append(
            {
                "user_id": notice.user_id,
                "kind": kind,
                "loan_id": loan_id,
                "message": notice.text,
                "created_at": now,
                "updated_at": now,
                "dedupe_key": base,
            }
        )
        email, username = contacts[notice.user_id]
        outbox.append(
            _outbox(
                "email",
                event,
                f"{base}:email",
                notice.user_id,
                loan_id,
                None,
                {"to": email, "subject": notice.subject, "body": f"Hello {username},\n\n{notice.text}\n"},
                now,
            )
        )
        for subscription_id in wanted.get(notice.user_id, []):
            body = {"type": event, "created": int(now.timestamp()), "data": notice.data}
            outbox.append(
                _outbox(
                    "webhook",
                    event,
                    f"{base}:webhook:{subscription_id}",
                    notice.user_id,
                    loan_id,
                    subscription_id,
                    body,
                    now,
                )
            )
    repo.add_notifications(session, feed)
    repo.add_outbox(session, outbox)


def _outbox(
    channel: str,
    event: str,
    key: str,
    user_id: int,
    loan_id: int,
    subscription_id: int | None,
    payload: dict[str, Any],
    now: Any,
) -> dict[str, Any]:
    return {
        "channel": channel,
        "event": event,
        "dedupe_key": key,
        "user_id": user_id,
        "loan_id": loan_id,
        "subscription_id": subscription_id,
        "payload": json.dumps(payload, sort_keys=True),
        "state": "pending",
        "attempts": 0,
        "next_attempt_at": now,
        "created_at": now,
    }


def for_user(
    session: Session, user_id: int, *, limit: int, before_id: int | None = None, unread_only: bool = False
) -> list[Notification]:
    return repo.notifications_of_user(session, user_id, limit=limit, before_id=before_id, unread_only=unread_only)


def mark_read(session: Session, user_id: int, notification_id: int) -> Notification:
    """Mark the caller's notification read (again is a no-op); someone else's is reported missing."""
    found = repo.notification_of_user(session, user_id, notification_id)
    if found is None:
        raise NotFound(f"notification {notification_id} not found")
    if found.read_at is None:
        found.read_at = utcnow()
        found.updated_at = found.read_at
        session.flush()
    return found


def subscribe(
    session: Session, settings: Settings, user_id: int, url: str, events: Sequence[str]
) -> WebhookSubscription:
    try:
        resolve(url, allow_private=settings.webhook_allow_private_targets, require_https=settings.env == "production")
    except UnsafeWebhookUrl as exc:
        raise InvalidInput(f"url: {exc}") from None
    return repo.add_subscription(
        session,
        user_id=user_id,
        url=url,
        events=" ".join(sorted(set(events))),
        secret="whsec_" + secrets.token_urlsafe(32),
        created_at=utcnow(),
    )


def subscriptions(session: Session, user_id: int) -> list[WebhookSubscription]:
    return repo.subscriptions_of_user(session, user_id)


def unsubscribe(session: Session, user_id: int, subscription_id: int) -> None:
    found = repo.subscription_of_user(session, user_id, subscription_id)
    if found is None:
        raise NotFound(f"webhook subscription {subscription_id} not found")
    found.disabled_at = utcnow()
    session.flush()
