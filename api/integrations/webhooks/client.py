"""Posting one signed event to a subscriber, with the standard library's HTTP client: it connects to the
address `security.resolve` checked (TLS still verifies the certificate for the URL's host name), never follows
a redirect, and any 2xx is success."""

from __future__ import annotations

import http.client
import socket
import ssl
from dataclasses import dataclass
from typing import Protocol

from api.integrations.webhooks.security import Target, resolve, signature_header


@dataclass(frozen=True, slots=True)
class Delivery:
    url: str
    secret: str
    body: bytes
    event: str
    delivery_id: str  # the outbox message: receivers dedupe on it
    timestamp: int


class WebhookSender(Protocol):
    def send(self, delivery: Delivery) -> int:
        """POST it; returns the HTTP status (raises OSError and friends when the receiver is unreachable)."""
        ...


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """Connects to the checked address, verifies TLS for the URL's host name."""

    def __init__(self, target: Target, timeout: float, context: ssl.SSLContext) -> None:
        super().__init__(target.host, target.port, timeout=timeout, context=context)
        self._address = target.address
        self._context_pinned = context

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context_pinned.wrap_socket(sock, server_hostname=self.host)


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, target: Target, timeout: float) -> None:
        super().__init__(target.host, target.port, timeout=timeout)
        self._address = target.address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class HttpWebhookSender:
    def __init__(self, *, allow_private: bool, require_https: bool, timeout: float) -> None:
        self.allow_private = allow_private
        self.require_https = require_https
        self.timeout = timeout

    def send(self, delivery: Delivery) -> int:
        target = resolve(delivery.url, allow_private=self.allow_private, require_https=self.require_https)
        connection: http.client.HTTPConnection = (
            _PinnedHTTPSConnection(target, self.timeout, ssl.create_default_context())
            if target.scheme == "https"
            else _PinnedHTTPConnection(target, self.timeout)
        )
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "Peerlend-Webhooks/1",
            "Peerlend-Event": delivery.event,
            "Peerlend-Delivery": delivery.delivery_id,
            "Peerlend-Signature": signature_header(delivery.secret, delivery.timestamp, delivery.body),
        }
        try:
            connection.request("POST", target.path, body=delivery.body, headers=headers)
            response = connection.getresponse()
            response.read(64 * 1024)
            return int(response.status)
        finally:
            connection.close()
