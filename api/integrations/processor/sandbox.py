"""The embedded default processor: a sandbox that behaves like ACH, keeping its own books (its own tables, never
read by the platform's code) as an external processor would.

- A transfer settles `processor_settle_days` business days after it was submitted (weekends skipped; no bank
  holidays).
- Returns arrive days later, as ACH returns do. Which transfers fail is chosen as processors' sandboxes choose
  it, by the amount's cents: .01 returns R01 (insufficient funds), .02 R02 (account closed), .03 R03 (no
  account), each one business day after submission (with zero settlement days, at once), before it would have
  settled. `force_return` returns any
  transfer, including one already settled (a late return, as R10 "not authorized" can be).
- Each outcome is a webhook event, signed, delivered at least once: `deliver` retries until the platform
  acknowledges it, and `deliver(shuffle=..., duplicate=True)` sends them out of order and twice, as real
  webhooks can arrive.
- `settle_all_now` settles every pending transfer today, as a sandbox's "simulate processing" call does: for
  demos and test set-up, never the platform's own code path."""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Callable
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.integrations.processor.base import RETURN_CODES, ProcessorRefused, SettlementLine, TransferRequest
from api.integrations.processor.sandbox_tables import SandboxEvent, SandboxTransfer
from api.integrations.processor.webhooks import signature_header
from api.kit.clock import today, utcnow
from api.kit.db import Database

MAGIC_CENTS: dict[int, str] = {1: "R01", 2: "R02", 3: "R03"}

#: Delivers one webhook: (body, headers) -> HTTP status code.
Deliver = Callable[[bytes, dict[str, str]], int]


def add_business_days(day: date, days: int) -> date:
    while days > 0:
        day += timedelta(days=1)
        if day.weekday() < 5:
            days -= 1
    return day


class SandboxProcessor:
    name = "sandbox"

    def __init__(self, database: Database, *, settle_days: int = 2, webhook_secret: str) -> None:
        self.database = database
        self.settle_days = settle_days
        self.webhook_secret = webhook_secret

    # ------------------------------------------------------------------------------ the processor's API

    def submit(self, request: TransferRequest) -> str:
        with self.database.transaction() as session:
            seen = session.scalar(
                select(SandboxTransfer).where(SandboxTransfer.idempotency_key == request.client_reference)
            )
            if seen is not None:
                if (seen.direction, seen.user_id, seen.amount_cents) != (
                    request.direction,
                    request.user_id,
                    request.amount_cents,
                ):
                    raise ProcessorRefused("the processor saw this idempotency key with a different transfer")
                return seen.reference
            submitted = today()
            code = MAGIC_CENTS.get(request.amount_cents % 100)
            transfer = SandboxTransfer(
                reference=f"sbx_{uuid.uuid4().hex[:24]}",
                idempotency_key=request.client_reference,
                direction=request.direction,
                user_id=request.user_id,
                amount_cents=request.amount_cents,
                submitted_on=submitted,
                settles_on=add_business_days(submitted, self.settle_days),
                status="pending",
                return_code=code,
                returns_on=add_business_days(submitted, min(1, self.settle_days)) if code else None,
            )
            session.add(transfer)
            session.flush()
            return transfer.reference

    def settlement_report(self) -> list[SettlementLine]:
        with self.database.transaction(write=False) as session:
            rows = session.scalars(select(SandboxTransfer).order_by(SandboxTransfer.submitted_on)).all()
            return [
                SettlementLine(
                    reference=t.reference,
                    client_reference=t.idempotency_key,
                    direction="collect" if t.direction == "collect" else "payout",
                    amount_cents=t.amount_cents,
                    status="settled"
                    if t.status == "settled"
                    else ("returned" if t.status == "returned" else "pending"),
                    settled_on=t.settles_on
                    if t.status in ("settled", "returned") and t.settles_on <= today()
                    else None,
                    returned_on=t.returns_on if t.status == "returned" else None,
                    return_code=t.return_code if t.status == "returned" else None,
                )
                for t in rows
            ]

    # ------------------------------------------------------------------------ the processor's own clock

    def advance(self, on: date | None = None) -> int:
        """Settle and return what is due by `on` (today); each outcome becomes a webhook event. Returns the
        number of events raised."""
        day = on or today()
        raised = 0
        with self.database.transaction() as session:
            pending = session.scalars(
                select(SandboxTransfer)
                .where(SandboxTransfer.status.in_(("pending", "settled")))
                .order_by(SandboxTransfer.submitted_on, SandboxTransfer.created_at, SandboxTransfer.reference)
                .with_for_update()
            ).all()
            for t in pending:
                if t.return_code and t.returns_on is not None and t.returns_on <= day:
                    t.status = "returned"
                    raised += self._event(session, t, "transfer.returned", t.returns_on)
                elif t.status == "pending" and t.return_code is None and t.settles_on <= day:
                    t.status = "settled"
                    raised += self._event(session, t, "transfer.settled", t.settles_on)
        return raised

    def force_return(self, client_reference: str, code: str, *, on: date | None = None) -> None:
        """Return a transfer (pending, or settled: a late return) on `on` (the next business day)."""
        if code not in RETURN_CODES:
            raise ValueError(f"unknown return code {code}")
        with self.database.transaction() as session:
            t = session.scalar(
                select(SandboxTransfer).where(SandboxTransfer.idempotency_key == client_reference).with_for_update()
            )
            if t is None:
                raise LookupError(f"the sandbox has no transfer {client_reference}")
            if t.status == "returned":
                return
            t.return_code = code
            t.returns_on = on or add_business_days(today(), 1)

    def settle_all_now(self) -> int:
        """Every pending transfer without a return settles today (a sandbox's "simulate processing")."""
        with self.database.transaction() as session:
            for t in session.scalars(
                select(SandboxTransfer).where(SandboxTransfer.status == "pending").with_for_update()
            ):
                if t.return_code is None:
                    t.settles_on = min(t.settles_on, today())
                elif t.returns_on is not None:
                    t.returns_on = min(t.returns_on, today())
        return self.advance()

    def _event(self, session: Session, t: SandboxTransfer, event_type: str, on: date) -> int:
        event_id = f"evt_{uuid.uuid4().hex[:24]}"
        body = {
            "id": event_id,
            "type": event_type,
            "occurred_on": on.isoformat(),
            "data": {
                "reference": t.reference,
                "client_reference": t.idempotency_key,
                "direction": t.direction,
                "amount_cents": t.amount_cents,
                "return_code": t.return_code if event_type == "transfer.returned" else None,
            },
        }
        session.add(
            SandboxEvent(
                event_id=event_id,
                reference=t.reference,
                event_type=event_type,
                body=json.dumps(body, sort_keys=True),
                occurred_on=on,
            )
        )
        return 1

    # ------------------------------------------------------------------------------------- webhooks

    def deliver(self, send: Deliver, *, shuffle: random.Random | None = None, duplicate: bool = False) -> int:
        """Deliver every unacknowledged event (oldest first, or shuffled); returns how many were acknowledged."""
        with self.database.transaction(write=False) as session:
            events = [
                (e.sequence, e.body)
                for e in session.scalars(
                    select(SandboxEvent).where(SandboxEvent.delivered_at.is_(None)).order_by(SandboxEvent.sequence)
                )
            ]
        if shuffle is not None:
            shuffle.shuffle(events)
        acknowledged = 0
        for sequence, body in events:
            raw = body.encode()
            status = send(raw, self.headers_for(raw))
            if duplicate:
                send(raw, self.headers_for(raw))
            with self.database.transaction() as session:
                event = session.get(SandboxEvent, sequence)
                if event is None:
                    continue
                event.attempts += 1
                if 200 <= status < 300:
                    event.delivered_at = utcnow()
                    acknowledged += 1
        return acknowledged

    def headers_for(self, body: bytes) -> dict[str, str]:
        return {"Content-Type": "application/json", **signature_header(self.webhook_secret, body)}
