"""One shape for every error: `{"detail": "<what is wrong>", "code": "<machine code>"}`, whoever raised it
(a domain rule, a validator, the framework's router, or a database that went away)."""

from __future__ import annotations

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError, DisconnectionError, IntegrityError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.kit.errors import PeerlendError
from api.kit.money import MoneyError

log = structlog.get_logger("peerlend.api")

FRAMEWORK_CODES = {
    400: "bad_request",
    401: "not_authenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    413: "payload_too_large",
    415: "unsupported_media_type",
}
UNAVAILABLE_RETRY_SECONDS = 2


def _error(status: int, detail: str, code: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"detail": detail, "code": code}, status_code=status, headers=headers)


def install(app: FastAPI) -> None:
    @app.exception_handler(PeerlendError)
    def _domain_error(_: Request, exc: PeerlendError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status_code == 401 else {}
        if exc.retry_after is not None:
            headers["Retry-After"] = str(exc.retry_after)
        return _error(exc.status_code, exc.detail, exc.code, headers)

    @app.exception_handler(MoneyError)
    def _money_error(_: Request, exc: MoneyError) -> JSONResponse:
        return _error(422, str(exc), "invalid_amount")

    @app.exception_handler(RequestValidationError)
    def _validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = []
        for err in exc.errors():
            location = ".".join(str(part) for part in err.get("loc", ()) if part != "body")
            errors.append({"field": location, "message": err.get("msg", "invalid")})
        summary = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
        return JSONResponse({"detail": summary, "code": "validation_error", "errors": errors}, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    def _framework_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = FRAMEWORK_CODES.get(exc.status_code, "http_error")
        detail = exc.detail if isinstance(exc.detail, str) else "request refused"
        return _error(exc.status_code, detail, code, dict(exc.headers or {}))

    @app.exception_handler(IntegrityError)
    async def _integrity_error(request: Request, exc: IntegrityError) -> JSONResponse:
        # A unique or check constraint stopped a concurrent write; the transaction rolled back.
        log.warning("integrity_conflict", path=request.url.path, constraint=type(exc.orig).__name__)
        return _error(409, "a concurrent request changed the same data; retry", "conflict")

    async def _unavailable(request: Request, exc: Exception) -> JSONResponse:
        # Nothing was committed: the transaction never reached its commit, or the commit failed.
        log.warning("database_unavailable", path=request.url.path, error_type=type(exc).__name__)
        return _error(
            503,
            "the database is unavailable; nothing was changed, retry shortly",
            "unavailable",
            {"Retry-After": str(UNAVAILABLE_RETRY_SECONDS)},
        )

    for error in (OperationalError, InterfaceError, DisconnectionError, PoolTimeout):
        app.add_exception_handler(error, _unavailable)

    @app.exception_handler(DBAPIError)
    async def _database_error(request: Request, exc: DBAPIError) -> JSONResponse:
        if exc.connection_invalidated:
            return await _unavailable(request, exc)
        log.error("database_error", path=request.url.path, error_type=type(exc.orig).__name__, exc_info=exc)
        return _error(500, "internal error; the request did not complete", "internal")

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        # async, so the traceback is still attached when it is logged
        log.error("unhandled_error", path=request.url.path, error_type=type(exc).__name__, exc_info=exc)
        return _error(500, "internal error; the request did not complete", "internal")
