"""Registration of borrowers, investors and staff."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from api.identity import auth as auth_service
from api.identity import repository as repo
from api.identity.audit import ClientInfo, record
from api.identity.security import hash_password
from api.identity.tables import Investor, User
from api.integrations.email.mailer import OutgoingEmail
from api.kit.errors import Conflict
from api.ledger import repository as ledger_repo
from api.ledger.accounts import Owner
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
) -> tuple[User, Investor | None, OutgoingEmail]:
    """Create the account (and, for investors, the investor account with its ledger accounts) and the
    verification email that the caller sends once the transaction has committed."""
    email = email.lower()
    taken = repo.find_taken(session, username, email)
    if taken is not None:
        field = "username" if taken.username.lower() == username.lower() else "email"
        raise Conflict(f"that {field} is already registered")
    auth_service.check_password_strength(settings, password, username, email)
    investor: Investor | None = None
    try:
        # a concurrent registration of the same name or address loses on the unique index
        with session.begin_nested():
            user = repo.add_user(session, username, email, hash_password(password), role)
            if role == "investor":
                investor = repo.add_investor(session, user)
                ledger_repo.open_accounts(session, Owner.INVESTOR, investor.investor_id)
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
    return user, investor, auth_service.verification_email(session, settings, user)


def register_investor(
    session: Session, settings: Settings, *, username: str, email: str, password: str, client: ClientInfo
) -> tuple[User, Investor, OutgoingEmail]:
    user, investor, message = register_user(
        session, settings, username=username, email=email, password=password, role="investor", client=client
    )
    if investor is None:  # register_user opens one for every investor
        raise RuntimeError("investor registration did not open an investor account")
    return user, investor, message


def investor_of(session: Session, user_id: int) -> Investor | None:
    return repo.get_investor_by_user(session, user_id)
