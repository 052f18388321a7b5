"""Lifecycle transitions, applied and recorded: the status changes only here, and every change leaves a
`loan_events` row with its time and actor (the warehouse rebuilds funding histories from them)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, insert, update
from sqlalchemy.orm import Session

from api.identity.caller import Caller
from api.kit.clock import utcnow
from api.lending.lifecycle import LoanEvent, LoanStatus, next_status
from api.lending.tables import Loan, LoanEventRow

EVENTS = cast(Table, LoanEventRow.__table__)
LOANS = cast(Table, Loan.__table__)


@dataclass(frozen=True, slots=True)
class Actor:
    """Who made a transition: a person (their role and user id) or a part of the system (its name)."""

    type: str
    user_id: int | None
    name: str

    @staticmethod
    def of(caller: Caller) -> Actor:
        return Actor(caller.role, caller.user_id, caller.username)

    @staticmethod
    def system(name: str) -> Actor:
        return Actor("system", None, name)


def record(
    session: Session,
    loan_id: int,
    event: LoanEvent,
    from_status: str | None,
    to_status: str,
    actor: Actor,
    details: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> None:
    session.execute(
        insert(EVENTS).values(
            loan_id=loan_id,
            event=event.value,
            from_status=from_status,
            to_status=to_status,
            actor_type=actor.type,
            actor_user_id=actor.user_id,
            actor_name=actor.name[:64],
            details=json.dumps(details or {}, sort_keys=True),
            occurred_at=at or utcnow(),
        )
    )


def transition(
    session: Session,
    loan: Loan,
    event: LoanEvent,
    actor: Actor,
    *,
    target: LoanStatus | None = None,
    details: dict[str, Any] | None = None,
) -> LoanStatus:
    """Move an ORM loan (locked by the caller) through `event`, or refuse with a 409 naming its state."""
    new = next_status(loan.status, event, target)
    now = utcnow()
    record(session, loan.loan_id, event, loan.status, new.value, actor, details, now)
    loan.status = new.value
    loan.updated_at = now
    return new


def transition_row(
    session: Session,
    loan_id: int,
    current: str,
    event: LoanEvent,
    actor: Actor,
    *,
    details: dict[str, Any] | None = None,
    **stamps: Any,
) -> LoanStatus:
    """The same for a loan changed by Core statements (the hot paths), whose row lock the caller holds."""
    new = next_status(current, event)
    now = utcnow()
    session.execute(update(LOANS).where(LOANS.c.loan_id == loan_id).values(status=new.value, updated_at=now, **stamps))
    record(session, loan_id, event, current, new.value, actor, details, now)
    return new
