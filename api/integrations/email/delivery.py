"""Emails leave after the request's transaction commits, as background tasks."""

from __future__ import annotations

import structlog
from fastapi import BackgroundTasks

from api.integrations.email.mailer import Mailer, OutgoingEmail

log = structlog.get_logger("peerlend.email")


def _deliver(mailer: Mailer, message: OutgoingEmail) -> None:
    try:
        mailer.send(message)
    except Exception as exc:  # a lost email must not fail the request; the user can ask again
        log.error("email_send_failed", subject=message.subject, error_type=type(exc).__name__)


def send_later(background: BackgroundTasks, mailer: Mailer, message: OutgoingEmail) -> None:
    background.add_task(_deliver, mailer, message)
