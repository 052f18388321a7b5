from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, status
from fastapi.security import OAuth2PasswordRequestForm

from api.deps import CurrentUser, SessionDep, SettingsDep
from api.repositories import users as users_repo
from api.routers.presenters import user_public
from api.schemas.users import Token, UserPublic, UserRegister
from api.security import create_access_token
from api.services import users as users_service

router = APIRouter(tags=["users"])


@router.post("/users/register", status_code=status.HTTP_201_CREATED, response_model=UserPublic)
def register(payload: UserRegister, session: SessionDep) -> UserPublic:
    """Create a borrower or investor account. An investor also gets an investor account whose
    portfolio starts at zero."""
    user = users_service.register_user(
        session,
        username=payload.username,
        email=str(payload.email),
        password=payload.password,
        role=payload.role,
    )
    investor = users_repo.get_investor_by_user(session, user.user_id)
    return user_public(user, investor.investor_id if investor else None)


@router.post("/auth/token", response_model=Token)
def login(form: Annotated[OAuth2PasswordRequestForm, Depends()], session: SessionDep, settings: SettingsDep) -> Token:
    """OAuth2 password flow: form fields `username` and `password`; returns a bearer JWT."""
    user = users_service.authenticate(session, form.username, form.password)
    token = create_access_token(
        user.user_id, user.role, settings.jwt_secret.get_secret_value(), settings.access_token_minutes
    )
    return Token(access_token=token, expires_in=settings.access_token_minutes * 60)


@router.get("/users/me", response_model=UserPublic)
def me(user: CurrentUser, session: SessionDep) -> UserPublic:
    investor = users_repo.get_investor_by_user(session, user.user_id)
    return user_public(user, investor.investor_id if investor else None)
