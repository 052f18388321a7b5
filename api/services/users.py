"""Registration of borrowers, investors and staff."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from api.db.tables import Investor, User
from api.email.mailer import OutgoingEmail
from api.errors import Conflict
from api.repositories import users as users_repo
from api.security import hash_password
from api.services import auth as auth_service
from api.services.audit import ClientInfo, record
from api.settings import Settings


def register_user(
    session: Session,
    settings: Settings,
    *,
    username: str,
    email: str,
    password: str,
    role: str,
    client: ClientInfo,
    actor_user_id: int | None = None,
) -> tuple[User, OutgoingEmail]:
    """Create the account (and, for investors, the investor account) and the verification email
    that the caller sends once the transaction has committed."""
    email = email.lower()
    taken = users_repo.find_taken(session, username, email)
    if taken is not None:
        field = "username" if taken.username == username else "email"
        raise Conflict(f"that {field} is already registered")
    auth_service.check_password_strength(settings, password, username, email)
    try:
        # a concurrent registration of the same name or address loses on the unique index
        with session.begin_nested():
            user = users_repo.add_user(session, username, email, hash_password(password), role)
            if role == "investor":
                users_repo.add_investor(session, user)
    except IntegrityError:
        raise Conflict("that username or email is already registered") from None
    record(
        session,
        actor_user_id=actor_user_id or user.user_id,
        subject_user_id=user.user_id,
        action="user_registered" if actor_user_id is None else "staff_created",
        client=client,
        changes={"role": (None, role)},
    )
    return user, auth_service.verification_email(session, settings, user)


def investor_of(session: Session, user: User) -> Investor | None:
    return users_repo.get_investor_by_user(session, user.user_id)
