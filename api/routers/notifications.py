from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from api.authz import Permission
from api.db.tables import User
from api.deps import SessionDep, require
from api.routers.presenters import notification_public
from api.schemas.money_movements import NotificationPublic
from api.services import notifications as notifications_service

router = APIRouter(tags=["notifications"])


@router.get("/notifications", response_model=list[NotificationPublic])
def list_notifications(
    user: Annotated[User, Depends(require(Permission.NOTIFICATIONS_OWN))],
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[NotificationPublic]:
    """The caller's notifications, newest first."""
    return [notification_public(n) for n in notifications_service.for_user(session, user.user_id, limit)]
