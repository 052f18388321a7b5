"""The audit log of identity changes: who, what, when, from where. Values are masked so the log
itself holds no full personal data (no full date of birth, phone or address)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from api.identity import repository as repo
from api.identity.bands import income_band
from api.identity.tables import AuditEntry
from api.kit.clock import utcnow


@dataclass(frozen=True)
class ClientInfo:
    ip: str | None
    user_agent: str | None


def mask(field: str, value: Any) -> str | None:
    if value is None:
        return None
    if field == "date_of_birth" and isinstance(value, date):
        return f"{value.year}-**-**"
    if field == "phone":
        text = str(value)
        return "*" * max(0, len(text) - 2) + text[-2:]
    if field == "annual_income_cents":
        return income_band(int(value))
    if field in {"legal_name", "employer"}:
        return " ".join(part[:1] + "***" for part in str(value).split())
    if field in {"address_line1", "address_line2", "postal_code", "city", "region"}:
        return "***"
    return str(value)


def record(
    session: Session,
    *,
    actor_user_id: int | None,
    subject_user_id: int | None,
    action: str,
    client: ClientInfo,
    changes: dict[str, tuple[Any, Any]] | None = None,
) -> None:
    masked = {
        field: {"from": mask(field, old), "to": mask(field, new)} for field, (old, new) in (changes or {}).items()
    }
    repo.add_audit(
        session,
        AuditEntry(
            actor_user_id=actor_user_id,
            subject_user_id=subject_user_id,
            action=action,
            changes=json.dumps(masked, sort_keys=True),
            ip=client.ip,
            user_agent=(client.user_agent or "")[:200] or None,
            created_at=utcnow(),
        ),
    )
