from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Depends, Query, status
from pydantic import BaseModel

from api.authz import Permission
from api.db.tables import User
from api.deps import ClientDep, MailerDep, SessionDep, SettingsDep, require
from api.domain.money import format_cents
from api.repositories import ledger as ledger_repo
from api.repositories import profiles as profiles_repo
from api.routers.mail import send_later
from api.routers.presenters import user_public
from api.schemas.common import MAX_ID, CursorQuery
from api.schemas.money_movements import AccountBalancePublic, TrialBalancePublic
from api.schemas.profiles import AuditEntryPublic, AuditPage, StaffCreate
from api.schemas.users import UserPublic
from api.services import listings as listings_service
from api.services import users as users_service

router = APIRouter(tags=["admin"], prefix="/admin")


@router.get("/ledger/trial-balance", response_model=TrialBalancePublic)
def trial_balance(
    _: Annotated[User, Depends(require(Permission.LEDGER_READ))], session: SessionDep
) -> TrialBalancePublic:
    """Every ledger account's balance (debits positive). The total is zero when the books balance."""
    rows = ledger_repo.trial_balance(session)
    return TrialBalancePublic(
        accounts=[AccountBalancePublic(code=c, account_type=t, balance=format_cents(b)) for c, t, b in rows],
        total=format_cents(sum(b for _, _, b in rows)),
        unbalanced_transactions=ledger_repo.unbalanced_transactions(session),
    )


@router.get("/audit-log", response_model=AuditPage)
def audit_log(
    _: Annotated[User, Depends(require(Permission.AUDIT_READ))],
    session: SessionDep,
    subject_user_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: CursorQuery = None,
) -> AuditPage:
    """The append-only audit log of identity changes, newest first. Values are masked."""
    rows = profiles_repo.audit_entries(
        session, subject_user_id=subject_user_id, before_id=int(cursor) if cursor else None, limit=limit + 1
    )
    page = rows[:limit]
    return AuditPage(
        items=[
            AuditEntryPublic(
                audit_id=r.audit_id,
                actor_user_id=r.actor_user_id,
                subject_user_id=r.subject_user_id,
                action=r.action,
                changes=json.loads(r.changes),
                ip=r.ip,
                user_agent=r.user_agent,
                created_at=r.created_at,
            )
            for r in page
        ],
        next_cursor=str(page[-1].audit_id) if len(rows) > limit else None,
    )


@router.post("/users", status_code=status.HTTP_201_CREATED, response_model=UserPublic)
def create_staff(
    payload: StaffCreate,
    admin: Annotated[User, Depends(require(Permission.STAFF_MANAGE))],
    session: SessionDep,
    settings: SettingsDep,
    client: ClientDep,
    mailer: MailerDep,
    background: BackgroundTasks,
) -> UserPublic:
    """Create an admin or analyst account (staff cannot self-register)."""
    user, email = users_service.register_user(
        session,
        settings,
        username=payload.username,
        email=str(payload.email),
        password=payload.password,
        role=payload.role,
        client=client,
        actor_user_id=admin.user_id,
    )
    send_later(background, mailer, email)
    return user_public(user)


class ExpiredListings(BaseModel):
    expired_loan_ids: list[int]


@router.post("/loans/expire", response_model=ExpiredListings)
def expire_listings(
    _: Annotated[User, Depends(require(Permission.LISTINGS_EXPIRE))], session: SessionDep, settings: SettingsDep
) -> ExpiredListings:
    """Expire every listing older than PEERLEND_LISTING_DAYS, returning committed cash to its
    investors (also `python -m api.cli expire-listings`, for a scheduler)."""
    return ExpiredListings(expired_loan_ids=listings_service.expire_stale(session, settings))
