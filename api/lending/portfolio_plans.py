"""Portfolio plans: propose a diversified set of notes (api/lending/plans.py), then place all of it in one
request or none of it.

Placing takes the plan's loans in loan-id order (the order every multi-loan path locks them in), commits each
note exactly as a manual investment does (funding UPDATE under the loan's lock, per-investor cap), then reserves
the cash for all of them in one ledger transaction. Any note that can no longer be bought, or cash that does not
cover the plan, fails the whole request with a 409 naming every problem, and the transaction rolls back: no
note of the plan is bought."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.identity.caller import Caller
from api.identity.profiles import profile_of
from api.kit.clock import utcnow
from api.kit.db import Database
from api.kit.errors import NotFound, PeerlendError
from api.kit.money import format_cents
from api.ledger import postings
from api.ledger import repository as ledger_repo
from api.lending import investing, plans
from api.lending import repository as repo
from api.lending.errors import NoPlanPossible, PlanNotPlaceable
from api.lending.events import Actor
from api.lending.tables import PortfolioPlan, PortfolioPlanNote
from api.settings import Settings

DEFAULT_RISK = "balanced"


def create(
    session: Session, settings: Settings, caller: Caller, *, amount_cents: int, risk: str | None, min_loans: int
) -> tuple[PortfolioPlan, list[PortfolioPlanNote]]:
    investor_id = caller.investor()
    if risk is None:
        profile = profile_of(session, caller.user_id)
        risk = (profile.risk_preference if profile is not None else None) or DEFAULT_RISK
    now = utcnow()
    listings = repo.open_listings(session, now)
    held = repo.held_in_loans(session, investor_id, [int(r.loan_id) for r in listings])
    cap = settings.max_investment_per_loan_cents
    candidates = [
        plans.Candidate(
            loan_id=int(r.loan_id),
            grade=str(r.grade),
            interest_rate_bps=int(r.interest_rate_bps),
            probability_of_default_ppm=int(r.probability_of_default_ppm),
            term_months=int(r.term_months),
            room_cents=min(int(r.amount_cents - r.funded_amount_cents), cap - held.get(int(r.loan_id), 0)),
            expires_order=position,
        )
        for position, r in enumerate(
            sorted(listings, key=lambda r: (r.listing_expires_at is None, r.listing_expires_at))
        )
    ]
    try:
        plan = plans.build(
            amount_cents,
            risk,
            min_loans,
            candidates,
            step_cents=settings.investment_step_cents,
            max_share_pct=settings.plan_max_loan_share_pct,
        )
    except plans.NoPlan as exc:
        raise NoPlanPossible(str(exc)) from None
    record = PortfolioPlan(
        investor_id=investor_id,
        amount_cents=amount_cents,
        risk_preference=risk,
        min_loans=min_loans,
        status="proposed",
        expected_return_bps=plan.expected_return_bps,
        expected_loss_cents=plan.expected_loss_cents,
        created_at=now,
        expires_at=now + timedelta(minutes=settings.plan_valid_minutes),
    )
    session.add(record)
    session.flush()
    notes = [
        PortfolioPlanNote(
            plan_id=record.plan_id,
            loan_id=n.loan_id,
            amount_cents=n.amount_cents,
            grade=n.grade,
            interest_rate_bps=n.interest_rate_bps,
            probability_of_default_ppm=n.probability_of_default_ppm,
            term_months=n.term_months,
        )
        for n in plan.notes
    ]
    session.add_all(notes)
    session.flush()
    return record, notes


def get(
    session: Session, caller: Caller, plan_id: int, *, lock: bool = False
) -> tuple[PortfolioPlan, list[PortfolioPlanNote]]:
    query = select(PortfolioPlan).where(
        PortfolioPlan.plan_id == plan_id, PortfolioPlan.investor_id == caller.investor()
    )
    if lock:
        query = query.with_for_update()
    record = session.scalars(query).first()
    if record is None:
        raise NotFound(f"portfolio plan {plan_id} not found")
    notes = list(
        session.scalars(
            select(PortfolioPlanNote).where(PortfolioPlanNote.plan_id == plan_id).order_by(PortfolioPlanNote.loan_id)
        )
    )
    return record, notes


def place(
    session: Session, database: Database, settings: Settings, caller: Caller, plan_id: int
) -> tuple[PortfolioPlan, list[PortfolioPlanNote]]:
    investor_id = caller.investor()
    record, notes = get(session, caller, plan_id, lock=True)
    if record.status == "placed":
        raise PlanNotPlaceable(f"portfolio plan {plan_id} was already placed")
    now = utcnow()
    expires = record.expires_at if record.expires_at.tzinfo else record.expires_at.replace(tzinfo=now.tzinfo)
    if expires <= now:
        raise PlanNotPlaceable(f"portfolio plan {plan_id} expired at {expires.isoformat()}; create a new one")
    problems: list[str] = []
    committed: list[tuple[PortfolioPlanNote, investing.Committed]] = []
    for note in sorted(notes, key=lambda n: n.loan_id):
        try:
            done = investing.commit(session, settings, investor_id, note.loan_id, note.amount_cents, source="plan")
        except PeerlendError as refusal:
            problems.append(f"loan {note.loan_id} ({format_cents(note.amount_cents)}): {refusal.detail}")
            continue
        committed.append((note, done))
    total = sum(n.amount_cents for n in notes)
    if not problems:
        try:
            ledger_repo.post(
                session,
                "investment",
                postings.investment(investor_id, total),
                f"portfolio plan {plan_id}: {len(notes)} notes",
            )
        except ledger_repo.Overdrawn:
            problems.append(str(investing.no_cash(session, investor_id, total).detail))
    if problems:
        raise PlanNotPlaceable(
            f"portfolio plan {plan_id} was not placed (no note was bought): {len(problems)} problem(s): "
            + "; ".join(problems)
        )
    actor = Actor.of(caller)
    for note, done in committed:
        note.investment_id = done.investment_id
        investing.complete_if_full(session, database, note.loan_id, done, actor)
    record.status = "placed"
    record.placed_at = now
    session.flush()
    return record, notes


def view(record: PortfolioPlan, notes: list[PortfolioPlanNote], settings: Settings) -> dict[str, Any]:
    planned = [
        plans.PlannedNote(
            n.loan_id, n.grade, n.amount_cents, n.interest_rate_bps, n.probability_of_default_ppm, n.term_months
        )
        for n in notes
    ]
    plan = plans.Plan(
        tuple(planned),
        dict(plans.MIXES[record.risk_preference]),
        max(
            settings.investment_step_cents,
            record.amount_cents
            * settings.plan_max_loan_share_pct
            // 100
            // settings.investment_step_cents
            * settings.investment_step_cents,
        ),
    )
    return {
        "plan_id": record.plan_id,
        "status": record.status,
        "amount": record.amount_cents,
        "risk_preference": record.risk_preference,
        "min_loans": record.min_loans,
        "loans": len({n.loan_id for n in notes}),
        "target_mix": plan.target_mix,
        "mix": plan.mix(),
        "max_per_loan": plan.max_per_loan_cents,
        "expected_return": record.expected_return_bps,
        "expected_loss": record.expected_loss_cents,
        "notes": [
            {
                "loan_id": n.loan_id,
                "grade": n.grade,
                "amount": n.amount_cents,
                "interest_rate": n.interest_rate_bps,
                "probability_of_default_ppm": n.probability_of_default_ppm,
                "term_months": n.term_months,
                "expected_loss": p.expected_loss_cents,
                "investment_id": n.investment_id,
            }
            for n, p in zip(notes, planned, strict=True)
        ],
        "created_at": record.created_at,
        "expires_at": record.expires_at,
        "placed_at": record.placed_at,
    }


__all__ = ["create", "get", "json", "place", "view"]
