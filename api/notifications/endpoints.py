"""Notifications over HTTP: the caller's feed, marking notices read, and webhook subscriptions."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, status

from api.authz import Permission
from api.deps import ReadSessionDep, SessionDep, SettingsDep, require
from api.identity.caller import Caller
from api.kit.routing import TransactionalRoute
from api.kit.schemas import MAX_ID, CursorQuery, cursor_id
from api.lending.schemas import WebhookSubscriptionCreate, WebhookSubscriptionCreated, WebhookSubscriptionPublic
from api.notifications import service
from api.notifications.schemas import NotificationPublic
from api.notifications.tables import Notification, WebhookSubscription

router = APIRouter(tags=["notifications"], route_class=TransactionalRoute)
Owner = Annotated[Caller, Depends(require(Permission.NOTIFICATIONS_OWN))]
Subscriber = Annotated[Caller, Depends(require(Permission.WEBHOOKS_OWN))]
IdPath = Annotated[int, Path(ge=1, le=MAX_ID)]


def _public(n: Notification) -> NotificationPublic:
    return NotificationPublic(
        notification_id=n.notification_id,
        kind=n.kind,
        loan_id=n.loan_id,
        message=n.message,
        created_at=n.created_at,
        read=n.read_at is not None,
    )


@router.get("/notifications", response_model=list[NotificationPublic])
def list_notifications(
    caller: Owner,
    session: ReadSessionDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: CursorQuery = None,
    unread: Annotated[bool, Query(description="only notifications not yet read")] = False,
) -> list[NotificationPublic]:
    """The caller's notifications, newest first; pass the last id seen as `cursor` for older ones."""
    return [
        _public(n)
        for n in service.for_user(session, caller.user_id, limit=limit, before_id=cursor_id(cursor), unread_only=unread)
    ]


@router.post(
    "/notifications/{notification_id}/read",
    response_model=NotificationPublic,
    responses={404: {"description": "Unknown notification, or not yours"}},
)
def mark_read(notification_id: IdPath, caller: Owner, session: SessionDep) -> NotificationPublic:
    """Mark one of the caller's notifications read (marking it again changes nothing)."""
    return _public(service.mark_read(session, caller.user_id, notification_id))


def _subscription(s: WebhookSubscription) -> WebhookSubscriptionPublic:
    return WebhookSubscriptionPublic(
        subscription_id=s.subscription_id, url=s.url, events=s.events.split(), created_at=s.created_at
    )


@router.post(
    "/webhooks/subscriptions",
    tags=["webhooks"],
    status_code=status.HTTP_201_CREATED,
    response_model=WebhookSubscriptionCreated,
    responses={
        422: {
            "description": "Unknown event, a URL that is not http(s), does not resolve, or resolves to a "
            "private, loopback or link-local address"
        }
    },
)
def subscribe(
    payload: WebhookSubscriptionCreate, caller: Subscriber, session: SessionDep, settings: SettingsDep
) -> WebhookSubscriptionCreated:
    """Have events about the caller's loans and notes POSTed to a URL. The answer carries the signing secret,
    once: every delivery has `Peerlend-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<body>">`,
    `Peerlend-Event` and `Peerlend-Delivery` (the same on a retry: keep one per delivery id). Deliveries are
    retried with exponential backoff until the receiver answers 2xx."""
    created = service.subscribe(session, settings, caller.user_id, payload.url, payload.events)
    return WebhookSubscriptionCreated(**_subscription(created).model_dump(), secret=created.secret)


@router.get("/webhooks/subscriptions", tags=["webhooks"], response_model=list[WebhookSubscriptionPublic])
def subscriptions(caller: Subscriber, session: ReadSessionDep) -> list[WebhookSubscriptionPublic]:
    return [_subscription(s) for s in service.subscriptions(session, caller.user_id)]


@router.delete(
    "/webhooks/subscriptions/{subscription_id}",
    tags=["webhooks"],
    status_code=status.HTTP_204_NO_CONTENT,
    responses={404: {"description": "Unknown subscription, or not yours"}},
)
def unsubscribe(subscription_id: IdPath, caller: Subscriber, session: SessionDep) -> None:
    """Stop deliveries to this subscription (notices already queued for it are dropped)."""
    service.unsubscribe(session, caller.user_id, subscription_id)
