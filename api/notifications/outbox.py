"""Delivering the outbox: email through the mailer, webhooks through the signed HTTP sender.

Exactly one notice per party and channel:
- **Enqueued once.** Rows are written in the transaction of the event itself (a loan's issuance), so either
  the event and all its notices commit or none do; a unique dedupe key makes a repeated announcement a no-op.
- **Delivered until acknowledged, by one worker at a time.** `deliver_due` leases due rows (PostgreSQL:
  `FOR UPDATE SKIP LOCKED`, so concurrent workers take disjoint rows), commits the lease, sends outside any
  transaction, then records the outcome only if it still holds the lease. A failure is retried with
  exponential backoff (PEERLEND_OUTBOX_RETRY_BASE_SECONDS doubling, capped at 6 hours) until
  PEERLEND_OUTBOX_MAX_ATTEMPTS, then the row is `dead` (kept, with its last error, for an operator).
- **Idempotent on the receiving side.** A crash after a send but before its outcome is recorded means the
  lease expires and the notice is sent again: that is the one window no sender can close. Every copy carries
  the same identity (email `Message-ID: <outbox-<id>@peerlend>`, webhook `Peerlend-Delivery: <id>`), so the
  receiver keeps one; the tests count what the receivers keep.
"""

from __future__ import annotations

import json
import os
import socket
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import structlog

from api.integrations.email.mailer import Mailer, OutgoingEmail
from api.integrations.webhooks.client import Delivery, WebhookSender
from api.integrations.webhooks.security import UnsafeWebhookUrl
from api.kit.clock import utcnow
from api.kit.db import Database
from api.notifications import repository as repo
from api.settings import Settings

log = structlog.get_logger("peerlend.outbox")
LEASE = timedelta(seconds=120)
MAX_BACKOFF = timedelta(hours=6)


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"[:64]


@dataclass
class DeliveryReport:
    sent: int = 0
    failed: int = 0
    dead: int = 0
    errors: list[str] = field(default_factory=list)


def backoff(settings: Settings, attempts: int) -> timedelta:
    """Delay before the next attempt after `attempts` failed ones: base, 2 x base, 4 x base, ..."""
    return min(timedelta(seconds=settings.outbox_retry_base_seconds * 2 ** max(0, attempts - 1)), MAX_BACKOFF)


def deliver_due(
    database: Database,
    settings: Settings,
    mailer: Mailer,
    sender: WebhookSender,
    *,
    worker: str | None = None,
    batch: int = 50,
    now: datetime | None = None,
) -> DeliveryReport:
    """Deliver every due message (in batches of `batch`) once; returns what happened."""
    me = worker or worker_name()
    report = DeliveryReport()
    while True:
        moment = now or utcnow()
        with database.transaction() as session:
            ids = repo.claim_due(session, now=moment, lease_until=moment + LEASE, worker=me, limit=batch)
            rows = repo.messages(session, ids) if ids else []
        if not rows:
            return report
        for row in rows:
            _deliver_one(database, settings, mailer, sender, me, row, report, moment)
        if len(rows) < batch:
            return report


def _deliver_one(
    database: Database,
    settings: Settings,
    mailer: Mailer,
    sender: WebhookSender,
    me: str,
    row: object,
    report: DeliveryReport,
    now: datetime,
) -> None:
    message_id = int(row.message_id)  # type: ignore[attr-defined]
    error: str | None = None
    try:
        payload = json.loads(row.payload)  # type: ignore[attr-defined]
        if row.channel == "email":  # type: ignore[attr-defined]
            mailer.send(
                OutgoingEmail(
                    to=payload["to"],
                    subject=payload["subject"],
                    body=payload["body"],
                    message_id=f"<outbox-{message_id}@peerlend>",
                )
            )
        elif row.disabled_at is not None or row.url is None:  # type: ignore[attr-defined]
            error = "subscription disabled"
        else:
            status = sender.send(
                Delivery(
                    url=row.url,  # type: ignore[attr-defined]
                    secret=row.secret,  # type: ignore[attr-defined]
                    body=json.dumps({"id": f"evt_{message_id}", **payload}, sort_keys=True).encode(),
                    event=row.event,  # type: ignore[attr-defined]
                    delivery_id=str(message_id),
                    timestamp=int(now.timestamp()),
                )
            )
            if not 200 <= status < 300:
                error = f"receiver answered HTTP {status}"
    except UnsafeWebhookUrl as exc:
        error = f"unsafe target: {exc}"
    except Exception as exc:  # any failure to deliver is retried later; the message stays pending
        error = f"{type(exc).__name__}: {exc}"[:300]
    attempts = int(row.attempts) + 1  # type: ignore[attr-defined]
    with database.transaction() as session:
        if error is None:
            repo.finish(session, message_id, me, state="sent", sent_at=utcnow(), last_error=None)
            report.sent += 1
            return
        dead = attempts >= settings.outbox_max_attempts or error == "subscription disabled"
        repo.finish(
            session,
            message_id,
            me,
            state="dead" if dead else "pending",
            next_attempt_at=now + backoff(settings, attempts),
            last_error=error,
        )
    report.dead += int(dead)
    report.failed += 1
    report.errors.append(f"{message_id}: {error}")
    log.warning("outbox_delivery_failed", message_id=message_id, attempts=attempts, dead=dead, error=error)
