from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Depends, status

from api.authz import Permission
from api.db.tables import User
from api.deps import ClientDep, MailerDep, Public, SessionDep, SettingsDep, rate_limited, require
from api.domain.money import parse_cents
from api.routers.mail import send_later
from api.routers.presenters import me_public, user_public
from api.schemas.profiles import MePublic, ProfileUpdate
from api.schemas.users import UserPublic, UserRegister
from api.services import profiles as profiles_service
from api.services import users as users_service

router = APIRouter(tags=["users"])


@router.post(
    "/users/register",
    status_code=status.HTTP_201_CREATED,
    response_model=UserPublic,
    dependencies=[Public, Depends(rate_limited("register"))],
    responses={409: {"description": "Username or email taken"}, 422: {"description": "Invalid or weak input"}},
)
def register(
    payload: UserRegister,
    session: SessionDep,
    settings: SettingsDep,
    client: ClientDep,
    mailer: MailerDep,
    background: BackgroundTasks,
) -> UserPublic:
    """Create a borrower or investor account and email a verification link. Until the address is
    verified the user can log in and edit their profile, but not borrow, invest or move cash."""
    user, email = users_service.register_user(
        session,
        settings,
        username=payload.username,
        email=str(payload.email),
        password=payload.password,
        role=payload.role,
        client=client,
    )
    send_later(background, mailer, email)
    investor = users_service.investor_of(session, user)
    return user_public(user, investor.investor_id if investor else None)


Me = Annotated[User, Depends(require(Permission.PROFILE_OWN))]


@router.get("/users/me", response_model=MePublic)
def me(user: Me, session: SessionDep) -> MePublic:
    """The caller's account and profile."""
    investor = users_service.investor_of(session, user)
    return me_public(user, investor, profiles_service.profile_of(session, user))


@router.patch("/users/me", response_model=MePublic)
def update_me(payload: ProfileUpdate, user: Me, session: SessionDep, client: ClientDep) -> MePublic:
    """Change profile fields (only those sent). Every change is written to the audit log."""
    changes = payload.model_dump(exclude_unset=True)
    if "annual_income" in changes:
        income = changes.pop("annual_income")
        changes["annual_income_cents"] = None if income is None else parse_cents(income, allow_zero=True)
    profile = profiles_service.update_profile(session, user, user, changes, client)
    investor = users_service.investor_of(session, user)
    return me_public(user, investor, profile)
