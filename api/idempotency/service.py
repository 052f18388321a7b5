"""Stripe-style idempotency for money-moving requests.

The key is claimed (a row inserted) before any money moves, inside the request's transaction. A
concurrent request with the same key waits on that row's unique index; once the first commits it finds
the stored response and replays it, and if the first rolled back it proceeds itself. Same key + same
request (method, path, canonical body) replays the first response byte for byte; same key with another
request is refused with 422."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass

from pydantic import BaseModel
from sqlalchemy.orm import Session

from api.idempotency import repository as repo
from api.kit.errors import Conflict, IdempotencyKeyMissing, IdempotencyKeyReused

MAX_KEY_LENGTH = 255
IN_PROGRESS_STATUS = 0


@dataclass(frozen=True, slots=True)
class StoredResponse:
    status_code: int
    body: bytes
    replayed: bool


def fingerprint(method: str, path: str, payload: BaseModel | None) -> str:
    body = payload.model_dump(mode="json") if payload is not None else None
    canonical = json.dumps([method.upper(), path, body], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def check_key(key: str | None) -> str:
    if not key or not key.strip():
        raise IdempotencyKeyMissing("money-moving requests need an Idempotency-Key header (any unique string)")
    if len(key) > MAX_KEY_LENGTH:
        raise IdempotencyKeyMissing(f"Idempotency-Key may be at most {MAX_KEY_LENGTH} characters")
    return key


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
    key = check_key(key)
    request_hash = fingerprint(method, path, payload)
    record_id = repo.claim(session, user_id=user_id, key=key, method=method, path=path, request_hash=request_hash)
    if record_id is None:
        existing = repo.find(session, user_id, key)
        if existing is None:
            raise Conflict("a request with this Idempotency-Key is in progress; retry shortly", retry_after=1)
        if existing.request_hash != request_hash:
            raise IdempotencyKeyReused("this Idempotency-Key was already used for a different request; use a new key")
        if existing.response_status == IN_PROGRESS_STATUS:
            raise Conflict("a request with this Idempotency-Key is in progress; retry shortly", retry_after=1)
        return StoredResponse(int(existing.response_status), bytes(existing.response_body), replayed=True)
    body = action().model_dump_json().encode()
    repo.complete(session, record_id, status_code, body)
    return StoredResponse(status_code, body, replayed=False)
