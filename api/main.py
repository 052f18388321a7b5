"""The FastAPI application factory: `uvicorn api.main:app` (or `python -m api.serve`)."""

from __future__ import annotations

import hmac
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any

import anyio
import fastapi_offline
from fastapi import FastAPI, Header
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy import text

from api.cash import endpoints as cash
from api.deps import Platform, Public
from api.identity import endpoints as identity
from api.integrations.email.mailer import Mailer, build_mailer
from api.integrations.processor import endpoints as processor_webhooks
from api.integrations.processor.base import PaymentProcessor
from api.integrations.processor.jobs import build_processor
from api.kit import handlers
from api.kit.db import Database
from api.kit.errors import NotFound
from api.kit.log_config import configure_logging
from api.kit.metrics import Metrics
from api.kit.middleware import Edge
from api.kit.ratelimit import RateLimiter
from api.ledger import endpoints as ledger
from api.lending import credit
from api.lending import endpoints as lending
from api.lending import market_endpoints as market
from api.notifications import endpoints as notifications
from api.payments import endpoints as payments
from api.reports import endpoints as reports
from api.settings import Settings, get_settings

DOCS_ASSETS = Path(fastapi_offline.__file__).parent / "static"
DESCRIPTION = (
    "Peer-to-peer lending: borrowers list loans, investors buy $25 notes, borrowers repay and every cent is "
    "distributed to note holders through a double-entry ledger. Money is a decimal string with two places "
    '("5000.00"); money-moving POSTs need an `Idempotency-Key` header.'
)


def create_app(
    settings: Settings | None = None, processor: PaymentProcessor | None = None, mailer: Mailer | None = None
) -> FastAPI:
    settings = settings or get_settings()
    configure_logging(settings.log_json)
    docs = settings.serve_docs
    app = FastAPI(
        lifespan=_lifespan(settings),
        title="Peerlend API",
        version="0.2.0",
        # Request metrics are ours (Prometheus at /metrics); FastAPI's OpenTelemetry hooks stay off.
        telemetry={"tracing": False, "metrics": False, "logs": False, "operation_spans": False},
        description=DESCRIPTION,
        openapi_url="/openapi.json" if docs else None,
        docs_url=None,
        redoc_url=None,
    )
    database = Database(settings.database_url)
    app.state.settings = settings
    app.state.database = database
    app.state.processor = processor or build_processor(settings, database)
    app.state.mailer = mailer or build_mailer(settings)
    limiter = RateLimiter(
        settings.rate_limit_storage,
        {
            "login": settings.rate_limit_login,
            "register": settings.rate_limit_register,
            "token": settings.rate_limit_token,
            "resend": settings.rate_limit_resend,
        },
        namespace=settings.rate_limit_namespace,
    )
    app.state.limiter = limiter
    app.state.platform = Platform(settings, database, app.state.mailer, limiter)
    # The credit bureau and the one model version this process serves, loaded once at start-up.
    credit.install(app, settings)
    handlers.install(app)

    metrics = Metrics()
    app.state.metrics = metrics
    app.add_middleware(Edge, metrics=metrics, proxies=settings.trusted_proxies, max_body_bytes=settings.max_body_bytes)

    _ops_routes(app, settings, database, metrics)
    if docs:
        _docs_routes(app)
    # Routes match in order: the busiest first.
    for module in (lending, market, cash, payments, reports, notifications, identity, ledger, processor_webhooks):
        app.include_router(module.router)
    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)
    return app


def _lifespan(settings: Settings) -> Any:
    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        # Endpoints are sync and run on anyio's thread pool. Past a few threads more only fight over the GIL:
        # requests then wait their turn on the event loop instead, which is cheaper than a thread switch.
        anyio.to_thread.current_default_thread_limiter().total_tokens = settings.threads
        yield

    return lifespan


def _ops_routes(app: FastAPI, settings: Settings, database: Database, metrics: Metrics) -> None:
    token = settings.metrics_token.get_secret_value() if settings.metrics_token else None
    metrics_open = token is None and settings.env != "production"

    @app.get("/metrics", tags=["ops"], dependencies=[Public])
    def prometheus_metrics(authorization: Annotated[str | None, Header()] = None) -> Response:
        """Prometheus text format: requests and latencies by route template. Needs
        `Authorization: Bearer <PEERLEND_METRICS_TOKEN>` when a token is set, and is off in production
        without one."""
        if not metrics_open:
            presented = (authorization or "").removeprefix("Bearer ").strip()
            if token is None or not hmac.compare_digest(presented.encode(), token.encode()):
                raise NotFound("not found")
        return metrics.render()

    @app.get("/health", tags=["ops"], dependencies=[Public])
    def health() -> JSONResponse:
        """Liveness with the database's state: 200 when it answers, 503 (with Retry-After) when it does not."""
        if _database_answers(database):
            return JSONResponse({"status": "ok", "database": "ok"})
        return JSONResponse(
            {"status": "degraded", "database": "unavailable", "code": "unavailable"},
            status_code=503,
            headers={"Retry-After": str(handlers.UNAVAILABLE_RETRY_SECONDS)},
        )

    @app.get("/ready", tags=["ops"], dependencies=[Public])
    def ready() -> JSONResponse:
        """Readiness for load balancers: 200 only when this instance can serve requests end to end."""
        if _database_answers(database):
            return JSONResponse({"ready": True})
        return JSONResponse(
            {"ready": False, "detail": "database unavailable", "code": "unavailable"},
            status_code=503,
            headers={"Retry-After": str(handlers.UNAVAILABLE_RETRY_SECONDS)},
        )


def _database_answers(database: Database) -> bool:
    # Twice: the first attempt may draw a pooled connection the server already dropped (after a restart),
    # which only tells the pool to reconnect; a second failure means the database itself is away.
    for _ in range(2):
        try:
            with database.autocommit() as connection:
                connection.execute(text("SELECT 1"))
            return True
        except Exception:  # any failure to reach it is "unavailable", never a 500
            continue
    return False


def _docs_routes(app: FastAPI) -> None:
    """Swagger UI and ReDoc from fastapi-offline's bundled assets: they work with no internet."""
    app.mount("/docs-assets", StaticFiles(directory=DOCS_ASSETS), name="docs-assets")

    @app.get("/docs", include_in_schema=False, dependencies=[Public])
    def swagger() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title="Peerlend API",
            swagger_js_url="/docs-assets/swagger-ui-bundle.js",
            swagger_css_url="/docs-assets/swagger-ui.css",
            swagger_favicon_url="/docs-assets/favicon.png",
        )

    @app.get("/redoc", include_in_schema=False, dependencies=[Public])
    def redoc() -> HTMLResponse:
        return get_redoc_html(
            openapi_url="/openapi.json",
            title="Peerlend API",
            redoc_js_url="/docs-assets/redoc.standalone.js",
            redoc_favicon_url="/docs-assets/favicon.png",
            with_google_fonts=False,
        )


def __getattr__(name: str) -> FastAPI:
    # `uvicorn api.main:app` builds the app on first access, not at import, so tests and tools
    # can import this module without touching the configured database.
    if name == "app":
        return create_app()
    raise AttributeError(name)
