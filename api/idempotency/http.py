"""Runs a money-moving action once per Idempotency-Key and renders the (possibly replayed) result."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import Request, Response, status
from pydantic import BaseModel
from sqlalchemy.orm import Session

from api.idempotency import service


def idempotent(
    request: Request,
    session: Session,
    user_id: int,
    key: str | None,
    payload: BaseModel,
    action: Callable[[str], BaseModel],
    status_code: int = status.HTTP_201_CREATED,
) -> Response:
    # The processor sees a key derived from the client's, so a retry after a failure that the
    # processor did not see cannot move the money twice there either.
    processor_key = f"user{user_id}:{key}"
    stored = service.run_once(
        session,
        user_id=user_id,
        key=key,
        method=request.method,
        path=request.url.path,
        payload=payload,
        status_code=status_code,
        action=lambda: action(processor_key),
    )
    headers = {"Idempotent-Replayed": "true"} if stored.replayed else {}
    return Response(content=stored.body, status_code=stored.status_code, headers=headers, media_type="application/json")
