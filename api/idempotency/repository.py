"""SQL for stored responses of idempotent requests: one claim, one completion."""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import Table, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from api.idempotency.tables import IdempotencyRecord
from api.kit.clock import utcnow

RECORDS = cast(Table, IdempotencyRecord.__table__)


def claim(session: Session, *, user_id: int, key: str, method: str, path: str, request_hash: str) -> int | None:
    """Insert the in-progress record and return its id, or None when the key is already taken. On
    PostgreSQL a concurrent claim of the same key waits here until the first transaction ends."""
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    statement = (
        insert(RECORDS)
        .values(
            user_id=user_id,
            key=key,
            method=method,
            path=path,
            request_hash=request_hash,
            response_status=0,
            response_body=b"",
            created_at=utcnow(),
        )
        .on_conflict_do_nothing(index_elements=["user_id", "key"])
        .returning(RECORDS.c.record_id)
    )
    found = session.execute(statement).scalar_one_or_none()
    return None if found is None else int(found)


def find(session: Session, user_id: int, key: str) -> Any | None:
    return session.execute(
        select(RECORDS.c.request_hash, RECORDS.c.response_status, RECORDS.c.response_body).where(
            RECORDS.c.user_id == user_id, RECORDS.c.key == key
        )
    ).first()


def complete(session: Session, record_id: int, status: int, body: bytes) -> None:
    session.execute(
        update(RECORDS).where(RECORDS.c.record_id == record_id).values(response_status=status, response_body=body)
    )
