"""Webhook signatures and SSRF protection.

**Signature** (Stripe's scheme): every delivery carries `Peerlend-Signature: t=<unix seconds>,v1=<hex>`, where
the hex is HMAC-SHA256 over `"<t>.<raw body>"` with the subscription's secret. A receiver recomputes it,
compares in constant time, and refuses timestamps older than its tolerance (replays). `verify` is that check.

**SSRF.** A webhook URL names a machine the platform will connect to, so it must not be a way into the
platform's own network: its host must resolve only to public addresses (not private, loopback, link-local,
multicast, reserved or unspecified, IPv4-mapped forms included) unless PEERLEND_WEBHOOK_ALLOW_PRIVATE_TARGETS is
set (tests, local demos). It is checked when the subscription is made and again at every delivery, and the
delivery connects to the very address that was checked (no second DNS lookup an attacker could rebind).
Redirects are never followed. Production requires https.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit


class UnsafeWebhookUrl(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str  # path and query, as sent in the request line
    address: str  # the checked IP address to connect to


def sign(secret: str, timestamp: int, body: bytes) -> str:
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def signature_header(secret: str, timestamp: int, body: bytes) -> str:
    return f"t={timestamp},v1={sign(secret, timestamp, body)}"


def verify(secret: str, header: str, body: bytes, *, now: int, tolerance_seconds: int = 300) -> bool:
    """What a receiver does with Peerlend-Signature."""
    try:
        parts = dict(item.split("=", 1) for item in header.split(","))
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs(now - timestamp) > tolerance_seconds:
        return False
    return hmac.compare_digest(parts.get("v1", ""), sign(secret, timestamp, body))


def _forbidden(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
        or not address.is_global
    )


def resolve(url: str, *, allow_private: bool, require_https: bool) -> Target:
    """Check a webhook URL and pick the address to deliver to; UnsafeWebhookUrl says what is wrong."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UnsafeWebhookUrl(f"not a valid URL: {exc}") from None
    scheme = parts.scheme.lower()
    allowed = ("https",) if require_https else ("http", "https")
    if scheme not in allowed:
        raise UnsafeWebhookUrl(f"the URL must use {' or '.join(allowed)}")
    if not parts.hostname:
        raise UnsafeWebhookUrl("the URL has no host")
    if parts.username or parts.password:
        raise UnsafeWebhookUrl("the URL may not carry credentials")
    port = port or (443 if scheme == "https" else 80)
    try:
        infos = socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise UnsafeWebhookUrl(f"the host {parts.hostname} does not resolve") from None
    addresses = [ipaddress.ip_address(info[4][0]) for info in infos]
    if not addresses:
        raise UnsafeWebhookUrl(f"the host {parts.hostname} does not resolve")
    if not allow_private:
        bad = [str(a) for a in addresses if _forbidden(a)]
        if bad:
            raise UnsafeWebhookUrl(
                f"the host {parts.hostname} resolves to a private, loopback or link-local address ({bad[0]}); "
                "webhooks are delivered to public addresses only"
            )
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return Target(scheme, parts.hostname, port, path, str(addresses[0]))
