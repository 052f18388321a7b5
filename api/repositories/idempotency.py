"""SQL for stored responses of idempotent requests."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.clock import utcnow
from api.db.tables import IdempotencyRecord


def find(session: Session, user_id: int, key: str) -> IdempotencyRecord | None:
    return session.scalars(
        select(IdempotencyRecord).where(IdempotencyRecord.user_id == user_id, IdempotencyRecord.key == key)
    ).first()


def add(
    session: Session,
    *,
    user_id: int,
    key: str,
    method: str,
    path: str,
    request_hash: str,
    response_status: int,
    response_body: bytes,
) -> None:
    session.add(
        IdempotencyRecord(
            user_id=user_id,
            key=key,
            method=method,
            path=path,
            request_hash=request_hash,
            response_status=response_status,
            response_body=response_body,
            created_at=utcnow(),
        )
    )
    session.flush()
