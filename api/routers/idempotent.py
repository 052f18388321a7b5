"""Renders an idempotent result, marking replays."""

from __future__ import annotations

from fastapi.responses import JSONResponse

from api.services.idempotency import StoredResponse


def respond(stored: StoredResponse) -> JSONResponse:
    headers = {"Idempotent-Replayed": "true"} if stored.replayed else {}
    return JSONResponse(content=stored.body, status_code=stored.status_code, headers=headers)
