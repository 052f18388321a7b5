"""Profiles: what a lender must know, who may list a loan, and the audit trail of changes."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from api.clock import today, utcnow
from api.db.tables import User, UserProfile
from api.domain.bands import age_on
from api.errors import Forbidden, InvalidAmount
from api.repositories import profiles as profiles_repo
from api.services.audit import ClientInfo, record

ADULT_AGE = 18
BORROWER_REQUIRED = (
    "legal_name",
    "date_of_birth",
    "address_line1",
    "city",
    "postal_code",
    "country",
    "phone",
    "annual_income_cents",
    "employment_status",
    "housing",
)
PROFILE_FIELDS = (
    "legal_name",
    "date_of_birth",
    "address_line1",
    "address_line2",
    "city",
    "region",
    "postal_code",
    "country",
    "phone",
    "annual_income_cents",
    "employment_status",
    "employer",
    "employment_length_years",
    "housing",
    "risk_preference",
)


class ProfileIncomplete(Forbidden):
    code = "profile_incomplete"


def profile_of(session: Session, user: User) -> UserProfile | None:
    return profiles_repo.get_profile(session, user.user_id)


def missing_for_borrowing(profile: UserProfile | None) -> list[str]:
    return [field for field in BORROWER_REQUIRED if profile is None or getattr(profile, field) is None]


def require_ready_to_borrow(session: Session, user: User) -> UserProfile:
    """Borrowers list loans only as adults with a complete profile."""
    profile = profiles_repo.get_profile(session, user.user_id)
    missing = missing_for_borrowing(profile)
    if missing:
        names = ", ".join(f.removesuffix("_cents") for f in missing)
        raise ProfileIncomplete(f"complete your profile before listing a loan (PATCH /users/me): missing {names}")
    assert profile is not None and profile.date_of_birth is not None
    if age_on(profile.date_of_birth, today()) < ADULT_AGE:
        raise ProfileIncomplete(f"borrowers must be at least {ADULT_AGE} years old")
    return profile


def update_profile(
    session: Session, actor: User, subject: User, changes: dict[str, Any], client: ClientInfo
) -> UserProfile:
    if "risk_preference" in changes and subject.role != "investor":
        raise InvalidAmount("risk_preference is for investor accounts")
    profile = profiles_repo.get_or_create_profile(session, subject.user_id)
    changed: dict[str, tuple[Any, Any]] = {}
    for field, value in changes.items():
        if field not in PROFILE_FIELDS:
            continue
        old = getattr(profile, field)
        if old != value:
            changed[field] = (old, value)
            setattr(profile, field, value)
    if changed:
        profile.updated_at = utcnow()
        record(
            session,
            actor_user_id=actor.user_id,
            subject_user_id=subject.user_id,
            action="profile_updated",
            client=client,
            changes=changed,
        )
    session.flush()
    return profile
