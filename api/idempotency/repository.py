"""SQL for stored responses of idempotent requests: one claim, one completion."""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from api.idempotency.tables import IdempotencyRecord
from api.kit.clock import utcnow
from api.kit.fastsql import FastStatement

RECORDS = cast(Table, IdempotencyRecord.__table__)


def _claim_statement(insert: Any) -> Any:
    return (
        insert(RECORDS)
        .values(
            user_id=bindparam("b_user_id"),
            key=bindparam("b_key"),
            method=bindparam("b_method"),
            path=bindparam("b_path"),
            request_hash=bindparam("b_request_hash"),
            response_status=0,
            response_body=b"",
            created_at=bindparam("b_created_at"),
        )
        .on_conflict_do_nothing(index_elements=["user_id", "key"])
        .returning(RECORDS.c.record_id)
    )


# Built once at import: building and hashing a statement costs more than running it.
_CLAIM = {
    "postgresql": FastStatement(_claim_statement(postgresql.insert)),
    "sqlite": FastStatement(_claim_statement(sqlite.insert)),
}
_FIND = FastStatement(
    select(RECORDS.c.request_hash, RECORDS.c.response_status, RECORDS.c.response_body).where(
        RECORDS.c.user_id == bindparam("user_id"), RECORDS.c.key == bindparam("key")
    )
)

_COMPLETE = FastStatement(
    update(RECORDS)
    .where(RECORDS.c.record_id == bindparam("b_record_id"))
    .values(response_status=bindparam("status"), response_body=bindparam("body"))
)


def claim(session: Session, *, user_id: int, key: str, method: str, path: str, request_hash: str) -> int | None:
    """Insert the in-progress record and return its id, or None when the key is already taken. On
    PostgreSQL a concurrent claim of the same key waits here until the first transaction ends."""
    connection = session.connection()
    found = _CLAIM[connection.dialect.name].scalar(
        connection,
        {
            "b_user_id": user_id,
            "b_key": key,
            "b_method": method,
            "b_path": path,
            "b_request_hash": request_hash,
            "b_created_at": utcnow(),
        },
    )
    return None if found is None else int(found)


def find(session: Session, user_id: int, key: str) -> Any | None:
    return _FIND.first(session, {"user_id": user_id, "key": key})


def complete(session: Session, record_id: int, status: int, body: bytes) -> None:
    _COMPLETE.first(session, {"b_record_id": record_id, "status": status, "body": body})
