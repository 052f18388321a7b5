"""Stripe-style idempotency for money-moving requests.

The key is claimed (a row inserted) before any money moves, inside the request's transaction.
A concurrent request with the same key waits on that row's unique index; once the first commits
it finds the stored response and replays it, and if the first rolled back it proceeds itself.
Same key + same request (method, path, canonical body) replays the first response; same key with
another request is refused with 422."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from api.errors import Conflict, IdempotencyKeyMissing, IdempotencyKeyReused
from api.repositories import idempotency as idempotency_repo

MAX_KEY_LENGTH = 255
IN_PROGRESS_STATUS = 0


@dataclass(frozen=True)
class StoredResponse:
    status_code: int
    body: dict[str, Any]
    replayed: bool


def fingerprint(method: str, path: str, payload: BaseModel | None) -> str:
    body = payload.model_dump(mode="json") if payload is not None else None
    canonical = json.dumps([method.upper(), path, body], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def run_once(
    session: Session,
    *,
    user_id: int,
    key: str | None,
    method: str,
    path: str,
    payload: BaseModel | None,
    status_code: int,
    action: Callable[[], BaseModel],
) -> StoredResponse:
    if not key or not key.strip():
        raise IdempotencyKeyMissing("money-moving requests need an Idempotency-Key header (any unique string)")
    if len(key) > MAX_KEY_LENGTH:
        raise IdempotencyKeyMissing(f"Idempotency-Key may be at most {MAX_KEY_LENGTH} characters")
    request_hash = fingerprint(method, path, payload)

    existing = idempotency_repo.find(session, user_id, key)
    if existing is None:
        try:
            with session.begin_nested():
                idempotency_repo.add(
                    session,
                    user_id=user_id,
                    key=key,
                    method=method,
                    path=path,
                    request_hash=request_hash,
                    response_status=IN_PROGRESS_STATUS,
                    response_body=b"",
                )
        except IntegrityError:
            existing = idempotency_repo.find(session, user_id, key)
            if existing is None:
                raise Conflict("a request with this Idempotency-Key is in progress; retry shortly") from None
    if existing is not None:
        if existing.request_hash != request_hash:
            raise IdempotencyKeyReused("this Idempotency-Key was already used for a different request; use a new key")
        if existing.response_status == IN_PROGRESS_STATUS:
            raise Conflict("a request with this Idempotency-Key is in progress; retry shortly")
        return StoredResponse(existing.response_status, json.loads(existing.response_body), replayed=True)

    result = action()
    body = result.model_dump(mode="json")
    record = idempotency_repo.find(session, user_id, key)
    assert record is not None
    record.response_status = status_code
    record.response_body = json.dumps(body).encode()
    session.flush()
    return StoredResponse(status_code, body, replayed=False)
