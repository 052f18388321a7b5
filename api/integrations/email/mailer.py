"""Outgoing email: real SMTP when PEERLEND_SMTP_HOST is set, otherwise a local mailbox folder
(one .eml file a message) so the embedded default needs no mail server."""

from __future__ import annotations

import re
import smtplib
import uuid
from dataclasses import dataclass
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import default as default_policy
from pathlib import Path
from typing import Protocol

import structlog

from api.kit.clock import utcnow
from api.settings import Settings

log = structlog.get_logger("peerlend.email")


@dataclass(frozen=True)
class OutgoingEmail:
    to: str
    subject: str
    body: str
    # A stable Message-ID (the outbox sets one per notice) lets mail systems drop a resent copy.
    message_id: str | None = None


class Mailer(Protocol):
    def send(self, message: OutgoingEmail) -> None: ...


def _build(sender: str, message: OutgoingEmail) -> EmailMessage:
    email = EmailMessage()
    email["From"] = sender
    email["To"] = message.to
    email["Subject"] = message.subject
    if message.message_id:
        email["Message-ID"] = message.message_id
    # 7bit keeps links on one line, so a user (or grep) can copy them straight from the .eml file
    email.set_content(message.body, cte="7bit" if message.body.isascii() else "quoted-printable")
    return email


class SmtpMailer:
    def __init__(self, settings: Settings) -> None:
        if not settings.smtp_host:
            raise ValueError("SmtpMailer needs PEERLEND_SMTP_HOST")
        self.host = settings.smtp_host
        self.port = settings.smtp_port
        self.starttls = settings.smtp_starttls
        self.username = settings.smtp_username
        self.password = settings.smtp_password
        self.sender = settings.mail_from

    def send(self, message: OutgoingEmail) -> None:
        with smtplib.SMTP(self.host, self.port, timeout=10) as smtp:
            if self.starttls:
                smtp.starttls()
            if self.username and self.password:
                smtp.login(self.username, self.password.get_secret_value())
            smtp.send_message(_build(self.sender, message))
        log.info("email_sent", transport="smtp", subject=message.subject)


class MailboxMailer:
    def __init__(self, settings: Settings) -> None:
        self.directory = settings.mailbox_dir
        self.sender = settings.mail_from

    def send(self, message: OutgoingEmail) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        stamp = utcnow().strftime("%Y%m%dT%H%M%S%f")
        recipient = re.sub(r"[^A-Za-z0-9._-]", "_", message.to)
        path = self.directory / f"{stamp}-{uuid.uuid4().hex[:8]}-{recipient}.eml"
        path.write_bytes(bytes(_build(self.sender, message)))
        log.info("email_written_to_mailbox", path=str(path), subject=message.subject)


def build_mailer(settings: Settings) -> Mailer:
    return SmtpMailer(settings) if settings.smtp_host else MailboxMailer(settings)


def read_mailbox(directory: Path, to: str) -> list[EmailMessage]:
    """Messages in a local mailbox addressed to `to`, oldest first (what a user would open)."""
    if not directory.exists():
        return []
    found = []
    for path in sorted(directory.glob("*.eml"), key=lambda p: p.stat().st_mtime_ns):
        parsed = BytesParser(policy=default_policy).parsebytes(path.read_bytes())
        if str(parsed["To"]).lower() == to.lower():
            found.append(parsed)
    return found


TOKEN_IN_BODY = re.compile(r"token=([A-Za-z0-9_-]{20,})")


def token_from(message: EmailMessage) -> str:
    body = message.get_body(preferencelist=("plain",))
    text = body.get_content() if body is not None else ""
    match = TOKEN_IN_BODY.search(text)
    if match is None:
        raise ValueError("no token link in this message")
    return match.group(1)
