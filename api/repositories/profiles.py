"""SQL for user profiles and the audit log."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.clock import utcnow
from api.db.tables import AuditEntry, UserProfile


def get_profile(session: Session, user_id: int) -> UserProfile | None:
    return session.get(UserProfile, user_id)


def get_or_create_profile(session: Session, user_id: int) -> UserProfile:
    profile = session.get(UserProfile, user_id)
    if profile is None:
        profile = UserProfile(user_id=user_id, updated_at=utcnow())
        session.add(profile)
        session.flush()
    return profile


def add_audit(session: Session, entry: AuditEntry) -> None:
    session.add(entry)
    session.flush()


def audit_entries(
    session: Session, *, subject_user_id: int | None, before_id: int | None, limit: int
) -> list[AuditEntry]:
    query = select(AuditEntry)
    if subject_user_id is not None:
        query = query.where(AuditEntry.subject_user_id == subject_user_id)
    if before_id is not None:
        query = query.where(AuditEntry.audit_id < before_id)
    return list(session.scalars(query.order_by(AuditEntry.audit_id.desc()).limit(limit)))
