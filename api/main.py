"""The FastAPI application factory: `uvicorn api.main:app`."""

from __future__ import annotations

import logging

import structlog
from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from api.db.session import build_engine, build_sessionmaker
from api.deps import Public
from api.domain.money import MoneyError
from api.email.mailer import Mailer, build_mailer
from api.errors import PeerlendError
from api.log_config import configure_logging
from api.metrics import Metrics
from api.processor.base import PaymentProcessor
from api.processor.sandbox import SandboxProcessor
from api.ratelimit import RateLimiter
from api.routers import admin, auth, investors, loans, notifications, payments, reports, users
from api.settings import Settings, get_settings

log = structlog.get_logger("peerlend.api")


def create_app(
    settings: Settings | None = None, processor: PaymentProcessor | None = None, mailer: Mailer | None = None
) -> FastAPI:
    settings = settings or get_settings()
    configure_logging(settings.log_json)
    app = FastAPI(
        title="Peerlend API",
        version="0.1.0",
        description=(
            "Peer-to-peer lending: borrowers list loans, investors buy $25 notes, borrowers repay and "
            "every cent is distributed to note holders through a double-entry ledger. Money is a decimal "
            'string with two places ("5000.00"); money-moving POSTs need an `Idempotency-Key` header.'
        ),
    )
    engine = build_engine(settings.database_url)
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessionmaker = build_sessionmaker(engine)
    app.state.processor = processor or SandboxProcessor()
    app.state.mailer = mailer or build_mailer(settings)
    app.state.limiter = RateLimiter(
        settings.rate_limit_storage,
        {
            "login": settings.rate_limit_login,
            "register": settings.rate_limit_register,
            "token": settings.rate_limit_token,
            "resend": settings.rate_limit_resend,
        },
    )

    @app.exception_handler(PeerlendError)
    def _domain_error(_: Request, exc: PeerlendError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status_code == 401 else {}
        retry_after = getattr(exc, "retry_after", None)
        if retry_after is not None:
            headers["Retry-After"] = str(retry_after)
        return JSONResponse({"detail": exc.detail, "code": exc.code}, status_code=exc.status_code, headers=headers)

    @app.exception_handler(MoneyError)
    def _money_error(_: Request, exc: MoneyError) -> JSONResponse:
        return JSONResponse({"detail": str(exc), "code": "invalid_amount"}, status_code=422)

    @app.exception_handler(RequestValidationError)
    def _validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = []
        for err in exc.errors():
            location = ".".join(str(part) for part in err.get("loc", ()) if part != "body")
            errors.append({"field": location, "message": err.get("msg", "invalid")})
        summary = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
        return JSONResponse({"detail": summary, "code": "validation_error", "errors": errors}, status_code=422)

    @app.exception_handler(IntegrityError)
    async def _integrity_error(request: Request, exc: IntegrityError) -> JSONResponse:
        # A unique or check constraint stopped a concurrent write; the transaction rolled back.
        log.warning("integrity_conflict", path=request.url.path, constraint=type(exc.orig).__name__)
        return JSONResponse(
            {"detail": "a concurrent request changed the same data; retry", "code": "conflict"}, status_code=409
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        # async, so the traceback is still attached when it is logged
        log.error("unhandled_error", path=request.url.path, error_type=type(exc).__name__, exc_info=exc)
        return JSONResponse(
            {"detail": "internal error; the request did not complete", "code": "internal"}, status_code=500
        )

    metrics = Metrics()
    app.state.metrics = metrics
    app.middleware("http")(metrics.middleware)

    @app.get("/metrics", tags=["ops"], dependencies=[Public], include_in_schema=True)
    def prometheus_metrics() -> Response:
        """Prometheus text format: requests and latencies by route template."""
        return metrics.render()

    @app.get("/health", tags=["ops"], dependencies=[Public])
    def health() -> dict[str, str]:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        return {"status": "ok"}

    for module in (users, auth, investors, loans, payments, notifications, admin, reports):
        app.include_router(module.router)
    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)
    return app


def __getattr__(name: str) -> FastAPI:
    # `uvicorn api.main:app` builds the app on first access, not at import, so tests and tools
    # can import this module without touching the configured database.
    if name == "app":
        return create_app()
    raise AttributeError(name)
