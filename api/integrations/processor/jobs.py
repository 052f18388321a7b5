"""The worker's `processor` job: submit the outbox, let the sandbox's clock run (settlements and returns fall
due), and deliver its webhooks: in-process to the API's own handler by default, or over HTTP to
PEERLEND_PROCESSOR_WEBHOOK_URL. A real processor needs only the first step; it calls the webhook itself."""

from __future__ import annotations

import random
import urllib.error
import urllib.request
from dataclasses import dataclass

from api.integrations.processor import outbox, webhooks
from api.integrations.processor.base import PaymentProcessor
from api.integrations.processor.sandbox import Deliver, SandboxProcessor
from api.kit.db import Database
from api.kit.errors import PeerlendError
from api.settings import Settings


def build_processor(settings: Settings, database: Database) -> SandboxProcessor:
    """The embedded default: the ACH-like sandbox, keeping its books in the platform's database."""
    return SandboxProcessor(
        database,
        settle_days=settings.processor_settle_days,
        webhook_secret=settings.processor_webhook_secret.get_secret_value(),
    )


def in_process_delivery(database: Database, settings: Settings) -> Deliver:
    """The webhook endpoint's own handling, without the HTTP hop: the same checks, its own transaction."""

    def send(body: bytes, headers: dict[str, str]) -> int:
        try:
            with database.transaction() as session:
                webhooks.process_delivery(session, settings, body, headers.get(webhooks.SIGNATURE_HEADER))
        except PeerlendError as error:
            return error.status_code
        return 200

    return send


def http_delivery(url: str, timeout: float) -> Deliver:
    def send(body: bytes, headers: dict[str, str]) -> int:
        request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310 - our own URL
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
                return int(response.status)
        except urllib.error.HTTPError as error:
            return int(error.code)
        except (urllib.error.URLError, TimeoutError):
            return 599

    return send


@dataclass(frozen=True)
class ProcessorRun:
    submitted: int
    failed: int
    events: int
    delivered: int

    def __str__(self) -> str:
        return (
            f"submitted {self.submitted} ({self.failed} failed), {self.events} processor events, "
            f"{self.delivered} delivered"
        )


def run(
    database: Database,
    processor: PaymentProcessor,
    settings: Settings,
    *,
    settle_all_now: bool = False,
    shuffle: random.Random | None = None,
    duplicate: bool = False,
) -> ProcessorRun:
    submitted = outbox.submit_queued(database, processor)
    events = delivered = 0
    if isinstance(processor, SandboxProcessor):
        events = processor.settle_all_now() if settle_all_now else processor.advance()
        send = (
            http_delivery(settings.processor_webhook_url, settings.webhook_timeout_seconds)
            if settings.processor_webhook_url
            else in_process_delivery(database, settings)
        )
        delivered = processor.deliver(send, shuffle=shuffle, duplicate=duplicate)
    return ProcessorRun(submitted.submitted, submitted.failed, events, delivered)


def settle_everything(database: Database, processor: PaymentProcessor, settings: Settings) -> ProcessorRun:
    """Demos and test set-up: submit, settle every pending sandbox transfer today, deliver (twice, so what was
    submitted by the first pass's deliveries settles too)."""
    first = run(database, processor, settings, settle_all_now=True)
    second = run(database, processor, settings, settle_all_now=True)
    return ProcessorRun(
        first.submitted + second.submitted,
        first.failed + second.failed,
        first.events + second.events,
        first.delivered + second.delivered,
    )
