"""Notifications: what the platform tells each user (the in-app feed), and the outbox of notices that leave
the platform (email, webhooks), written in the same transaction as the event they announce."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from api.db.base import Base, BigId, UtcDateTime, created_at_column, updated_at_column

OUTBOX_CHANNELS = ("email", "webhook")
OUTBOX_STATES = ("pending", "sent", "dead")


class Notification(Base):
    __tablename__ = "notifications"

    notification_id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.user_id"), nullable=False, index=True)
    kind: Mapped[str] = mapped_column(String(32), nullable=False)
    loan_id: Mapped[int | None] = mapped_column(ForeignKey("loans.loan_id"))
    message: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()
    read_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    # One notice per (event, party): a second attempt to write the same one is refused by the unique index.
    dedupe_key: Mapped[str | None] = mapped_column(String(120))

    __table_args__ = (Index("uq_notifications_dedupe_key", "dedupe_key", unique=True),)


class OutboxMessage(Base):
    """A notice to deliver outside the platform. Its `dedupe_key` (event, party, channel, destination) is
    unique, so an event enqueues each notice once however often the code that announces it runs; delivery
    claims it with a lease, retries with backoff, and marks it sent (see api/notifications/outbox.py)."""

    __tablename__ = "outbox_messages"

    message_id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    channel: Mapped[str] = mapped_column(String(16), nullable=False)
    event: Mapped[str] = mapped_column(String(32), nullable=False)
    dedupe_key: Mapped[str] = mapped_column(String(160), nullable=False, unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.user_id"), nullable=False)
    loan_id: Mapped[int | None] = mapped_column(ForeignKey("loans.loan_id"))
    subscription_id: Mapped[int | None] = mapped_column(ForeignKey("webhook_subscriptions.subscription_id"))
    payload: Mapped[str] = mapped_column(Text, nullable=False)
    state: Mapped[str] = mapped_column(String(16), nullable=False, default="pending", server_default="pending")
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0, server_default="0")
    next_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False)
    lease_until: Mapped[datetime | None] = mapped_column(UtcDateTime())
    leased_by: Mapped[str | None] = mapped_column(String(64))
    last_error: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = created_at_column()
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime())

    __table_args__ = (
        CheckConstraint("channel IN ('email', 'webhook')", name="ck_outbox_messages_channel"),
        CheckConstraint("state IN ('pending', 'sent', 'dead')", name="ck_outbox_messages_state"),
        Index("ix_outbox_messages_due", "state", "next_attempt_at"),
    )


class WebhookSubscription(Base):
    """Where a user wants events posted. The secret signs every delivery (HMAC-SHA256); it is shown once, at
    creation, and kept here because signing needs it (as Stripe keeps endpoint secrets)."""

    __tablename__ = "webhook_subscriptions"

    subscription_id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.user_id"), nullable=False, index=True)
    url: Mapped[str] = mapped_column(String(500), nullable=False)
    events: Mapped[str] = mapped_column(String(200), nullable=False)  # space-separated event names
    secret: Mapped[str] = mapped_column(String(80), nullable=False)
    created_at: Mapped[datetime] = created_at_column()
    disabled_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class ScheduledJob(Base):
    """The worker's schedule (api/worker.py): when each job is next due, and the lease of the process running
    it. Kept in the database so the schedule survives restarts and two workers never run one job at once."""

    __tablename__ = "scheduled_jobs"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    next_run_at: Mapped[datetime] = mapped_column(UtcDateTime(), nullable=False)
    lease_until: Mapped[datetime | None] = mapped_column(UtcDateTime())
    leased_by: Mapped[str | None] = mapped_column(String(64))
    last_started_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    last_finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    last_outcome: Mapped[str | None] = mapped_column(String(300))
    runs: Mapped[int] = mapped_column(Integer, nullable=False, default=0, server_default="0")
