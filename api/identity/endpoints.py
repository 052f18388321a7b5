"""Identity over HTTP: registration, tokens, email links, passwords, profiles, staff and the audit log."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Depends, Form, Query, status

from api.authz import Permission
from api.deps import (
    ClientDep,
    MailerDep,
    Public,
    ReadSessionDep,
    SessionDep,
    SettingsDep,
    rate_limited,
    require,
)
from api.identity import auth as auth_service
from api.identity import profiles as profiles_service
from api.identity import repository as repo
from api.identity import service as users_service
from api.identity.caller import Caller
from api.identity.schemas import (
    AuditEntryPublic,
    AuditPage,
    InvestorPublic,
    InvestorRegister,
    MePublic,
    Message,
    PasswordChange,
    PasswordForgot,
    PasswordReset,
    ProfilePublic,
    ProfileUpdate,
    RefreshRequest,
    StaffCreate,
    TokenPair,
    TokenSubmit,
    UserPublic,
    UserRegister,
)
from api.identity.tables import User, UserProfile
from api.integrations.email.delivery import send_later
from api.kit.routing import TransactionalRoute
from api.kit.schemas import MAX_ID, CursorQuery, cursor_id, reject_nul

router = APIRouter(route_class=TransactionalRoute)

Me = Annotated[Caller, Depends(require(Permission.PROFILE_OWN))]


def user_public(user: User, investor_id: int | None = None) -> UserPublic:
    return UserPublic(
        user_id=user.user_id,
        username=user.username,
        email=user.email,
        role=user.role,
        email_verified=user.email_verified_at is not None,
        investor_id=investor_id,
        created_at=user.created_at,
    )


def me_public(caller: Caller, profile: UserProfile | None) -> MePublic:
    fields = {f: getattr(profile, f) for f in profiles_service.PROFILE_FIELDS} if profile is not None else {}
    income = fields.pop("annual_income_cents", None)
    missing = profiles_service.missing_for_borrowing(profile)
    return MePublic(
        user_id=caller.user_id,
        username=caller.username,
        email=caller.email,
        role=caller.role,
        email_verified=caller.email_verified,
        investor_id=caller.investor_id,
        created_at=caller.created_at,
        profile=ProfilePublic(
            **fields,
            annual_income=income,
            complete_for_borrowing=not missing,
            missing_for_borrowing=[m.removesuffix("_cents") for m in missing],
        ),
    )


# Registration ---------------------------------------------------------------------------------------


@router.post(
    "/users/register",
    tags=["users"],
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
    user, investor, email = users_service.register_user(
        session,
        settings,
        username=payload.username,
        email=str(payload.email),
        password=payload.password,
        role=payload.role,
        client=client,
    )
    send_later(background, mailer, email)
    return user_public(user, investor.investor_id if investor else None)


@router.post(
    "/investors/register",
    tags=["investors"],
    status_code=status.HTTP_201_CREATED,
    response_model=InvestorPublic,
    dependencies=[Public, Depends(rate_limited("register"))],
)
def register_investor(
    payload: InvestorRegister,
    session: SessionDep,
    settings: SettingsDep,
    client: ClientDep,
    mailer: MailerDep,
    background: BackgroundTasks,
) -> InvestorPublic:
    """Create a user with the investor role and its investor account (portfolio starts at zero), and
    email a verification link."""
    user, investor, email = users_service.register_investor(
        session, settings, username=payload.username, email=str(payload.email), password=payload.password, client=client
    )
    send_later(background, mailer, email)
    return InvestorPublic(
        investor_id=investor.investor_id,
        user_id=user.user_id,
        username=user.username,
        email=user.email,
        role=user.role,
        portfolio_value=0,
        created_at=investor.created_at,
    )


# Tokens ---------------------------------------------------------------------------------------------


def _pair(tokens: auth_service.IssuedTokens) -> TokenPair:
    return TokenPair(
        access_token=tokens.access_token,
        expires_in=tokens.access_expires_in,
        refresh_token=tokens.refresh_token,
        refresh_expires_in=tokens.refresh_expires_in,
    )


def _form_text(value: str, field: str) -> str:
    try:
        reject_nul(value)
    except ValueError:
        raise auth_service.InvalidForm(f"{field}: text may not contain NUL characters") from None
    return value


@router.post(
    "/auth/token",
    tags=["auth"],
    response_model=TokenPair,
    dependencies=[Public, Depends(rate_limited("login"))],
    responses={
        401: {"description": "Wrong username or password"},
        429: {"description": "Too many attempts from this address (Retry-After says when to try again)"},
    },
)
def login(
    username: Annotated[str, Form(min_length=1, max_length=254)],
    password: Annotated[str, Form(min_length=1, max_length=128)],
    session: SessionDep,
    settings: SettingsDep,
    client: ClientDep,
) -> TokenPair:
    """OAuth2 password flow (form fields `username`, `password`): a short-lived access JWT and a
    single-use refresh token. Repeated failures from one address slow that address down."""
    name, secret = _form_text(username, "username"), _form_text(password, "password")
    return _pair(auth_service.login(session, settings, name, secret, client))


@router.post(
    "/auth/refresh", tags=["auth"], response_model=TokenPair, dependencies=[Public, Depends(rate_limited("token"))]
)
def refresh(payload: RefreshRequest, session: SessionDep, settings: SettingsDep) -> TokenPair:
    """Trade a refresh token for a new pair. Each refresh token works once; replaying one signs the
    session out."""
    return _pair(auth_service.refresh(session, settings, payload.refresh_token))


@router.post("/auth/logout", tags=["auth"], response_model=Message)
def logout(caller: Annotated[Caller, Depends(require(Permission.SESSION_OWN))], session: SessionDep) -> Message:
    """End this session: its access and refresh tokens stop working at once."""
    auth_service.logout(session, caller.session_id)
    return Message(detail="signed out")


def _verify(token: str, session: SessionDep, client: ClientDep) -> Message:
    user = auth_service.verify_email(session, token, client)
    return Message(detail=f"email address {user.email} verified")


@router.post(
    "/auth/verify-email",
    tags=["auth"],
    response_model=Message,
    dependencies=[Public, Depends(rate_limited("token"))],
)
def verify_email(payload: TokenSubmit, session: SessionDep, client: ClientDep) -> Message:
    """Confirm an email address with the token from the verification email."""
    return _verify(payload.token, session, client)


@router.get(
    "/auth/verify-email",
    tags=["auth"],
    response_model=Message,
    dependencies=[Public, Depends(rate_limited("token"))],
)
def verify_email_link(
    token: Annotated[str, Query(min_length=20, max_length=200, pattern=r"^[A-Za-z0-9_-]+$")],
    session: SessionDep,
    client: ClientDep,
) -> Message:
    """The link in the verification email."""
    return _verify(token, session, client)


@router.post(
    "/auth/resend-verification",
    tags=["auth"],
    response_model=Message,
    status_code=status.HTTP_202_ACCEPTED,
    dependencies=[Depends(rate_limited("resend"))],
)
def resend_verification(
    caller: Me, session: SessionDep, settings: SettingsDep, mailer: MailerDep, background: BackgroundTasks
) -> Message:
    """Send a new verification link (the old ones stop working). Rate-limited."""
    send_later(background, mailer, auth_service.resend_verification(session, settings, caller))
    return Message(detail=f"a new verification link was sent to {caller.email}")


@router.post(
    "/auth/password/change", tags=["auth"], response_model=Message, dependencies=[Depends(rate_limited("login"))]
)
def change_password(
    payload: PasswordChange,
    caller: Me,
    session: SessionDep,
    settings: SettingsDep,
    client: ClientDep,
    mailer: MailerDep,
    background: BackgroundTasks,
) -> Message:
    """Change the password; every other session is signed out."""
    email = auth_service.change_password(
        session, settings, caller, payload.current_password, payload.new_password, client
    )
    send_later(background, mailer, email)
    return Message(detail="password changed; your other sessions were signed out")


@router.post(
    "/auth/password/forgot",
    tags=["auth"],
    response_model=Message,
    status_code=status.HTTP_202_ACCEPTED,
    dependencies=[Public, Depends(rate_limited("resend"))],
)
def forgot_password(
    payload: PasswordForgot, session: SessionDep, settings: SettingsDep, mailer: MailerDep, background: BackgroundTasks
) -> Message:
    """Email a single-use reset link if the address is registered. The answer is the same either way."""
    email = auth_service.request_password_reset(session, settings, str(payload.email))
    if email is not None:
        send_later(background, mailer, email)
    return Message(detail="if that address is registered, a reset link is on its way")


@router.post(
    "/auth/password/reset", tags=["auth"], response_model=Message, dependencies=[Public, Depends(rate_limited("token"))]
)
def reset_password(payload: PasswordReset, session: SessionDep, settings: SettingsDep, client: ClientDep) -> Message:
    """Set a new password with the emailed token; every session is signed out."""
    auth_service.reset_password(session, settings, payload.token, payload.new_password, client)
    return Message(detail="password reset; log in with the new password")


@router.get("/auth/password/reset", tags=["auth"], response_model=Message, dependencies=[Public])
def reset_password_link(token: Annotated[str, Query(min_length=20, max_length=200)]) -> Message:
    """The link in the reset email explains how to finish."""
    return Message(detail="POST this token with your new_password to /auth/password/reset")


# Profiles -------------------------------------------------------------------------------------------


@router.get("/users/me", tags=["users"], response_model=MePublic)
def me(caller: Me, session: ReadSessionDep) -> MePublic:
    """The caller's account and profile."""
    return me_public(caller, profiles_service.profile_of(session, caller.user_id))


@router.patch("/users/me", tags=["users"], response_model=MePublic)
def update_me(payload: ProfileUpdate, caller: Me, session: SessionDep, client: ClientDep) -> MePublic:
    """Change profile fields (only those sent). Every change is written to the audit log."""
    profile = profiles_service.update_profile(session, caller, payload.changes(), client)
    return me_public(caller, profile)


# Staff ----------------------------------------------------------------------------------------------


@router.post("/admin/users", tags=["admin"], status_code=status.HTTP_201_CREATED, response_model=UserPublic)
def create_staff(
    payload: StaffCreate,
    admin: Annotated[Caller, Depends(require(Permission.STAFF_MANAGE))],
    session: SessionDep,
    settings: SettingsDep,
    client: ClientDep,
    mailer: MailerDep,
    background: BackgroundTasks,
) -> UserPublic:
    """Create an admin or analyst account (staff cannot self-register)."""
    user, _, email = users_service.register_user(
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


@router.get("/admin/audit-log", tags=["admin"], response_model=AuditPage)
def audit_log(
    _: Annotated[Caller, Depends(require(Permission.AUDIT_READ))],
    session: ReadSessionDep,
    subject_user_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: CursorQuery = None,
) -> AuditPage:
    """The append-only audit log of identity changes, newest first. Values are masked."""
    rows = repo.audit_entries(session, subject_user_id=subject_user_id, before_id=cursor_id(cursor), limit=limit + 1)
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
