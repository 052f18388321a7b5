"""Webhooks from the payment processor: signed, protected against replay, deduplicated, order-independent.

- **Signature**: `Processor-Signature: t=<unix seconds>,v1=<hex>`, HMAC-SHA256 over `"<t>.<raw body>"` with
  PEERLEND_PROCESSOR_WEBHOOK_SECRET (the scheme of api/integrations/webhooks/security.py). A wrong signature
  is a 401; a timestamp outside the tolerance (a replay of an old delivery) is a 401 too.
- **Duplicates**: every event id is stored (`processor_events`); a second delivery is acknowledged and changes
  nothing.
- **Order**: an event is applied against the transfer's current state, never assumed to follow another:
  `settled` after `returned` is ignored (a return is final); `returned` after `settled` is a late return;
  an event for a transfer whose submission we have not recorded yet is matched by our client reference.

The money each event moves is in api/integrations/processor/settlement.py."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.integrations.processor.tables import ProcessorEvent, ProcessorTransfer
from api.integrations.webhooks.security import signature_header as _signed
from api.integrations.webhooks.security import verify
from api.kit.errors import BadRequest, Conflict, NotAuthenticated
from api.settings import Settings

SIGNATURE_HEADER = "Processor-Signature"
EVENT_TYPES = ("transfer.settled", "transfer.returned")


class BadSignature(NotAuthenticated):
    code = "bad_signature"


class UnknownTransfer(Conflict):
    """Not ours yet (or never): the processor retries, and reconciliation reports it if it never matches."""

    code = "unknown_transfer"


def signature_header(secret: str, body: bytes, *, now: int | None = None) -> dict[str, str]:
    return {SIGNATURE_HEADER: _signed(secret, int(time.time()) if now is None else now, body)}


def check_signature(settings: Settings, header: str | None, body: bytes, *, now: int | None = None) -> None:
    secret = settings.processor_webhook_secret.get_secret_value()
    if not header or not verify(
        secret,
        header,
        body,
        now=int(time.time()) if now is None else now,
        tolerance_seconds=settings.processor_webhook_tolerance_seconds,
    ):
        raise BadSignature("the webhook's signature is missing, wrong, or too old to accept")


@dataclass(frozen=True, slots=True)
class Event:
    event_id: str
    event_type: str
    occurred_on: date
    reference: str
    client_reference: str
    return_code: str | None

    @staticmethod
    def parse(body: dict[str, Any]) -> Event:
        try:
            data = body["data"]
            event = Event(
                event_id=str(body["id"])[:64],
                event_type=str(body["type"]),
                occurred_on=date.fromisoformat(str(body["occurred_on"])),
                reference=str(data["reference"])[:64],
                client_reference=str(data["client_reference"])[:40],
                return_code=str(data["return_code"]) if data.get("return_code") else None,
            )
        except (KeyError, TypeError, ValueError) as error:
            raise BadRequest(f"the webhook body is not a processor event: {error}") from None
        if event.event_type not in EVENT_TYPES:
            raise BadRequest(f"unknown event type {event.event_type}; expected one of {', '.join(EVENT_TYPES)}")
        if event.event_type == "transfer.returned" and not event.return_code:
            raise BadRequest("a transfer.returned event needs a return_code")
        return event


def receive(session: Session, settings: Settings, event: Event) -> str:
    """Apply one verified event; returns its outcome (applied, ignored, duplicate, exception)."""
    from api.integrations.processor import settlement

    if session.get(ProcessorEvent, event.event_id) is not None:
        return "duplicate"
    transfer = session.scalar(
        select(ProcessorTransfer).where(ProcessorTransfer.client_reference == event.client_reference).with_for_update()
    )
    if transfer is None:
        raise UnknownTransfer(f"no transfer {event.client_reference}; retry later")
    if transfer.processor_reference is None:  # its submission's commit is still to come, or was lost
        transfer.processor_reference = event.reference
        transfer.status = "submitted" if transfer.status == "queued" else transfer.status
    elif transfer.processor_reference != event.reference:
        raise BadRequest(f"event {event.event_id} names another processor transfer than ours")
    if event.event_type == "transfer.settled":
        outcome = settlement.settle(session, settings, transfer, event.occurred_on)
    else:
        outcome = settlement.return_transfer(session, settings, transfer, event.return_code or "", event.occurred_on)
    session.add(
        ProcessorEvent(
            event_id=event.event_id,
            event_type=event.event_type,
            processor_reference=event.reference,
            outcome=outcome,
        )
    )
    session.flush()
    return outcome


def process_delivery(session: Session, settings: Settings, body: bytes, signature: str | None) -> str:
    """What the webhook endpoint does with one delivery: verify, parse, apply (or acknowledge a duplicate)."""
    check_signature(settings, signature, body)
    try:
        parsed = json.loads(body)
    except ValueError:
        raise BadRequest("the webhook body is not JSON") from None
    if not isinstance(parsed, dict):
        raise BadRequest("the webhook body is not a processor event")
    return receive(session, settings, Event.parse(parsed))
