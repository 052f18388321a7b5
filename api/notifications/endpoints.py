"""Notifications over HTTP: the caller's feed."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from api.authz import Permission
from api.deps import ReadSessionDep, require
from api.identity.caller import Caller
from api.kit.routing import TransactionalRoute
from api.kit.schemas import CursorQuery, cursor_id
from api.notifications import service
from api.notifications.schemas import NotificationPublic

router = APIRouter(tags=["notifications"], route_class=TransactionalRoute)


@router.get("/notifications", response_model=list[NotificationPublic])
def list_notifications(
    caller: Annotated[Caller, Depends(require(Permission.NOTIFICATIONS_OWN))],
    session: ReadSessionDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: CursorQuery = None,
    unread: Annotated[bool, Query(description="only notifications not yet read")] = False,
) -> list[NotificationPublic]:
    """The caller's notifications, newest first; pass the last id seen as `cursor` for older ones."""
    return [
        NotificationPublic(
            notification_id=n.notification_id,
            kind=n.kind,
            loan_id=n.loan_id,
            message=n.message,
            created_at=n.created_at,
            read=n.read_at is not None,
        )
        for n in service.for_user(session, caller.user_id, limit=limit, before_id=cursor_id(cursor), unread_only=unread)
    ]
