"""Pure ASGI middleware (no BaseHTTPMiddleware: it costs a task and a copy of every body per request)."""

from __future__ import annotations

import ipaddress
import json
import time
from collections.abc import Iterable
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.kit.metrics import Metrics


class TrustedProxies:
    """Believe X-Forwarded-For and X-Forwarded-Proto only from the configured proxies; everyone else's
    address is the socket's, so no client can choose the address its limits are counted against."""

    def __init__(self, proxies: Iterable[str]) -> None:
        self.networks = [ipaddress.ip_network(p, strict=False) for p in proxies]

    def trusted(self, host: str | None) -> bool:
        if not host or not self.networks:
            return False
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            return False
        return any(address in network for network in self.networks)

    def resolve(self, scope: Scope) -> Scope:
        client = scope.get("client")
        if not self.networks or not client or not self.trusted(client[0]):
            return scope
        headers = dict(scope["headers"])
        forwarded = headers.get(b"x-forwarded-for")
        if forwarded:
            # The right-most address not itself a trusted proxy is the client.
            hops = [h.strip() for h in forwarded.decode("latin-1").split(",") if h.strip()]
            for hop in reversed(hops):
                if not self.trusted(hop):
                    scope = dict(scope, client=(hop, 0))
                    break
        proto = headers.get(b"x-forwarded-proto")
        if proto in (b"https", b"http"):
            scope = dict(scope, scheme=proto.decode())
        return scope


# Swagger UI and ReDoc run inline scripts and workers from blobs; everything else is same-origin only.
CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; worker-src 'self' blob:; connect-src 'self'; frame-ancestors 'none'; "
    "base-uri 'none'; form-action 'self'"
)
_SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"content-security-policy", CSP.encode()),
]
_HSTS = (b"strict-transport-security", b"max-age=31536000; includeSubDomains")


class Edge:
    """Everything done to every request at the door, in one layer (each ASGI layer costs a call and a
    closure per message): the client's real address, the body-size cap (413 before the body is read: by
    Content-Length when declared, else by counting what streams in), security headers on every response,
    and request metrics by route template (never the raw path, which holds ids)."""

    def __init__(self, app: ASGIApp, *, metrics: Metrics, proxies: Iterable[str], max_body_bytes: int) -> None:
        self.app = app
        self.metrics = metrics
        self.proxies = TrustedProxies(proxies)
        self.max_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        scope = self.proxies.resolve(scope)
        for name, value in scope["headers"]:
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    await _reply(send, 400, "Content-Length is not a number", "bad_request")
                    return
                if declared > self.max_bytes:
                    await _reply(send, 413, self._too_large(), "payload_too_large")
                    return
        tls = scope.get("scheme") == "https"
        received = 0
        status = 500
        too_large = False
        replaced = False

        async def counting_receive() -> Message:
            nonlocal received, too_large
            if too_large:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    # Stop feeding the app; whatever it answers is replaced by the 413 below.
                    too_large = True
                    return {"type": "http.disconnect"}
            return message

        async def edge_send(message: Message) -> None:
            nonlocal status, replaced
            if replaced:
                return
            if message["type"] == "http.response.start":
                if too_large:
                    replaced = True
                    status = 413
                    await _reply(send, 413, self._too_large(), "payload_too_large")
                    return
                status = message["status"]
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers.extend(h for h in _SECURITY_HEADERS if h[0] not in present)
                if tls:
                    headers.append(_HSTS)
                message = dict(message, headers=headers)
            await send(message)

        try:
            await self.app(scope, counting_receive, edge_send)
        finally:
            route: Any = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            self.metrics.observe(scope["method"], template, status, time.perf_counter() - start)

    def _too_large(self) -> str:
        return f"request body larger than {self.max_bytes} bytes"


async def _reply(send: Send, status: int, detail: str, code: str) -> None:
    body = json.dumps({"detail": detail, "code": code}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})
