"""The web app as an ASGI application: ``dashboards/app.py`` plus what a Streamlit script cannot do itself.

    uv run streamlit run dashboards/server.py --server.headless true --browser.gatherUsageStats false \
        --server.address 127.0.0.1 --server.port 8501

(`streamlit run` sees the ``st.App`` below and serves it with uvicorn; the usual ``--server.*`` flags apply.)

1. **The links in the API's emails open in the app.** The API builds them as
   ``{PEERLEND_PUBLIC_BASE_URL}/auth/verify-email?token=...`` and ``/auth/password/reset?token=...``. Point
   ``PEERLEND_PUBLIC_BASE_URL`` at this app and these routes send the browser on to the app's own pages. A
   Streamlit page cannot live at a two-segment path (its assets load relative to the path and break), so the
   routes redirect (303) to ``/verify-email`` and ``/reset-password``, which read the token once and drop it
   from the address bar.
2. **Security headers** on every response: no framing (clickjacking), no referrer (a token in a URL never leaks
   to another site), no MIME sniffing.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlencode

import streamlit as st
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import RedirectResponse
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

APP = Path(__file__).resolve().parent / "app.py"
TOKEN = re.compile(r"^[A-Za-z0-9_-]{20,200}$")
SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"x-frame-options", b"DENY"),
    (b"content-security-policy", b"frame-ancestors 'none'"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-content-type-options", b"nosniff"),
)


def _forward(page: str):  # type: ignore[no-untyped-def]
    async def redirect(request: Request) -> RedirectResponse:
        token = request.query_params.get("token", "")
        query = urlencode({"token": token}) if TOKEN.match(token) else ""
        # Relative to the app's root, so it works behind a proxy and with --server.baseUrlPath.
        base = request.scope.get("root_path", "").rstrip("/")
        return RedirectResponse(f"{base}/{page}" + (f"?{query}" if query else ""), status_code=303)

    return redirect


class SecurityHeaders:
    """Adds :data:`SECURITY_HEADERS` to every HTTP response (the websocket carries no headers to add)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                message["headers"] = list(message.get("headers", [])) + [
                    (name, value) for name, value in SECURITY_HEADERS if name not in present
                ]
            await send(message)

        await self.app(scope, receive, with_headers)


app = st.App(
    str(APP),
    routes=[
        Route("/auth/verify-email", _forward("verify-email")),
        Route("/auth/password/reset", _forward("reset-password")),
    ],
    middleware=[Middleware(SecurityHeaders)],
)
