"""Profiles: what a lender must know, who may list a loan, and the audit trail of changes."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from api.identity import repository as repo
from api.identity.audit import ClientInfo, record
from api.identity.bands import age_on
from api.identity.caller import Caller
from api.identity.tables import UserProfile
from api.kit.clock import today, utcnow
from api.kit.errors import Forbidden, InvalidAmount

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


def profile_of(session: Session, user_id: int) -> UserProfile | None:
    return repo.get_profile(session, user_id)


def missing_for_borrowing(profile: UserProfile | None) -> list[str]:
    return [field for field in BORROWER_REQUIRED if profile is None or getattr(profile, field) is None]


def require_ready_to_borrow(session: Session, caller: Caller) -> UserProfile:
    """Borrowers list loans only as adults with a complete profile."""
    profile = repo.get_profile(session, caller.user_id)
    missing = missing_for_borrowing(profile)
    if missing:
        names = ", ".join(f.removesuffix("_cents") for f in missing)
        raise ProfileIncomplete(f"complete your profile before listing a loan (PATCH /users/me): missing {names}")
    if profile is None or profile.date_of_birth is None or age_on(profile.date_of_birth, today()) < ADULT_AGE:
        raise ProfileIncomplete(f"borrowers must be at least {ADULT_AGE} years old")
    return profile


def update_profile(session: Session, caller: Caller, changes: dict[str, Any], client: ClientInfo) -> UserProfile:
    """The caller changes their own profile."""
    if "risk_preference" in changes and not caller.is_investor:
        raise InvalidAmount("risk_preference is for investor accounts")
    profile = repo.get_or_create_profile(session, caller.user_id)
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
            actor_user_id=caller.user_id,
            subject_user_id=caller.user_id,
            action="profile_updated",
            client=client,
            changes=changed,
        )
    session.flush()
    return profile
