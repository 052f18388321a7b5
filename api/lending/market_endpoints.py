"""The investor's side of the marketplace over HTTP: cancelling a commitment, auto-invest rules, portfolio
plans; and, for staff, auto-invest runs and their explanation."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response, status

from api.authz import Permission
from api.deps import IdempotencyKey, PlatformDep, ReadSessionDep, SessionDep, require
from api.idempotency.http import idempotent
from api.identity.caller import Caller
from api.kit.routing import TransactionalRoute
from api.kit.schemas import MAX_ID
from api.lending import auto_invest, investing, portfolio_plans
from api.lending.schemas import (
    AllocationPublic,
    AllocationRoundPublic,
    AllocationRunPublic,
    AutoInvestPublic,
    AutoInvestRules,
    CommitmentCancel,
    InvestmentPublic,
    PlanNotePublic,
    PortfolioPlanCreate,
    PortfolioPlanPlace,
    PortfolioPlanPublic,
    probability_text,
)

router = APIRouter(route_class=TransactionalRoute)

Investor = Annotated[Caller, Depends(require(Permission.INVEST))]
AutoInvestor = Annotated[Caller, Depends(require(Permission.AUTO_INVEST))]
PortfolioOwner = Annotated[Caller, Depends(require(Permission.PORTFOLIO_OWN))]
IdPath = Annotated[int, Path(ge=1, le=MAX_ID)]


@router.post(
    "/investments/{investment_id}/cancel",
    tags=["investing"],
    response_model=InvestmentPublic,
    responses={
        404: {"description": "Unknown investment, or not yours"},
        409: {"description": "Not a commitment any more (issued, released, cancelled), or the loan is funded"},
    },
)
def cancel_commitment(
    investment_id: IdPath,
    request: Request,
    caller: Investor,
    session: SessionDep,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """Withdraw a commitment before its loan is issued (while the listing is open): the reserved cash returns to
    available cash and the listing needs that much more. Needs an Idempotency-Key: it moves cash."""

    def action(_processor_key: str) -> InvestmentPublic:
        note, loan_status = investing.cancel_commitment(session, caller, investment_id)
        return InvestmentPublic(
            investment_id=note.investment_id,
            loan_id=note.loan_id,
            investor_id=note.investor_id,
            amount=note.amount_cents,
            status="cancelled",
            loan_status=loan_status,
            loan_funded_amount=_funded(session, note.loan_id),
            created_at=note.created_at,
        )

    return idempotent(
        request, session, caller.user_id, idempotency_key, CommitmentCancel(), action, status_code=status.HTTP_200_OK
    )


def _funded(session: Any, loan_id: int) -> int:
    from api.lending import repository as repo

    row = repo.loan_row(session, loan_id)
    return int(row.funded_amount_cents) if row is not None else 0


@router.put(
    "/investors/me/auto-invest",
    tags=["investing"],
    response_model=AutoInvestPublic,
    responses={422: {"description": "Inconsistent rules (the message lists every problem)"}},
)
def put_auto_invest(
    payload: AutoInvestRules, caller: AutoInvestor, session: SessionDep, platform: PlatformDep
) -> AutoInvestPublic:
    """Replace the caller's auto-invest rule (a new version; the allocation log keeps the old ones). New
    listings are allocated to matching rules by the worker's auto-invest runs."""
    rule = auto_invest.save_rules(session, platform.settings, caller, payload)
    return AutoInvestPublic(**auto_invest.rule_view(session, rule))


@router.get(
    "/investors/me/auto-invest",
    tags=["investing"],
    response_model=AutoInvestPublic,
    responses={404: {"description": "No rules yet: PUT them first"}},
)
def get_auto_invest(caller: AutoInvestor, session: ReadSessionDep) -> AutoInvestPublic:
    from api.kit.errors import NotFound

    rule = auto_invest.current_rule(session, caller.investor())
    if rule is None:
        raise NotFound("no auto-invest rules yet: PUT /investors/me/auto-invest sets them")
    return AutoInvestPublic(**auto_invest.rule_view(session, rule))


def _plan_public(view: dict[str, Any]) -> PortfolioPlanPublic:
    notes = [
        PlanNotePublic(
            loan_id=n["loan_id"],
            grade=n["grade"],
            amount=n["amount"],
            interest_rate=n["interest_rate"],
            probability_of_default=probability_text(n["probability_of_default_ppm"]),
            term_months=n["term_months"],
            expected_loss=n["expected_loss"],
            investment_id=n["investment_id"],
        )
        for n in view["notes"]
    ]
    return PortfolioPlanPublic(**{**view, "notes": notes})


@router.post(
    "/investors/me/portfolio-plans",
    tags=["investing"],
    status_code=status.HTTP_201_CREATED,
    response_model=PortfolioPlanPublic,
    responses={409: {"description": "Not enough open listings for the mix and the number of loans asked for"}},
)
def create_plan(
    payload: PortfolioPlanCreate, caller: PortfolioOwner, session: SessionDep, platform: PlatformDep
) -> PortfolioPlanPublic:
    """Propose a diversified portfolio of notes for an amount: spread over grades by the risk preference's
    target mix, over at least `min_loans` loans, never more than PEERLEND_PLAN_MAX_LOAN_SHARE_PCT of the amount
    in one loan, with its expected return and expected loss. Nothing is bought until it is placed."""
    record, notes = portfolio_plans.create(
        session,
        platform.settings,
        caller,
        amount_cents=payload.amount,
        risk=payload.risk_preference,
        min_loans=payload.min_loans,
    )
    return _plan_public(portfolio_plans.view(record, notes, platform.settings))


@router.get(
    "/investors/me/portfolio-plans/{plan_id}",
    tags=["investing"],
    response_model=PortfolioPlanPublic,
    responses={404: {"description": "Unknown plan, or not yours"}},
)
def get_plan(
    plan_id: IdPath, caller: PortfolioOwner, session: ReadSessionDep, platform: PlatformDep
) -> PortfolioPlanPublic:
    record, notes = portfolio_plans.get(session, caller, plan_id)
    return _plan_public(portfolio_plans.view(record, notes, platform.settings))


@router.post(
    "/investors/me/portfolio-plans/{plan_id}/place",
    tags=["investing"],
    status_code=status.HTTP_201_CREATED,
    response_model=PortfolioPlanPublic,
    responses={
        404: {"description": "Unknown plan, or not yours"},
        409: {
            "description": "Nothing was bought: the plan expired or was placed, a note can no longer be bought "
            "(each is named with its reason), or the cash does not cover the plan"
        },
    },
)
def place_plan(
    plan_id: IdPath,
    request: Request,
    caller: Investor,
    session: SessionDep,
    platform: PlatformDep,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """Buy every note of the plan in one request, or none. Needs an Idempotency-Key: it moves cash."""

    def action(_processor_key: str) -> PortfolioPlanPublic:
        record, notes = portfolio_plans.place(session, platform.database, platform.settings, caller, plan_id)
        return _plan_public(portfolio_plans.view(record, notes, platform.settings))

    return idempotent(request, session, caller.user_id, idempotency_key, PortfolioPlanPlace(), action)


def _run_public(explained: dict[str, Any]) -> AllocationRunPublic:
    run = explained["run"]
    allocations = [
        AllocationPublic(
            round=a.round,
            loan_id=a.loan_id,
            investor_id=a.investor_id,
            rule_id=a.rule_id,
            rule_version=a.rule_version,
            investment_id=a.investment_id,
            amount=a.amount_cents,
            queue_position=a.queue_position,
            idle_cash_share_ppm=a.priority_ppm,
            tiebreak=a.tiebreak,
            listing_capacity=a.capacity_cents,
            listing_filled_after=a.filled_after_cents,
            budget=a.budget_cents,
            budget_spent=a.budget_spent_cents,
        )
        for a in explained["allocations"]
    ]
    return AllocationRunPublic(
        run_id=run.run_id,
        trigger=run.trigger,
        seed=run.seed,
        started_at=run.started_at,
        finished_at=run.finished_at,
        listings=run.listings,
        rules=run.rules,
        notes=run.notes,
        amount=run.amount_cents,
        settings=json.loads(run.settings),
        fairness_rule=explained["fairness_rule"],
        rounds=[
            AllocationRoundPublic(
                round=r.round, listings=r.listings, investors=r.investors, notes=r.notes, amount=int(r.amount)
            )
            for r in explained["rounds"]
        ],
        allocations=allocations,
        allocations_shown=len(allocations),
        replayed_identically=explained["replayed_identically"],
    )


@router.post(
    "/admin/allocations", tags=["admin"], status_code=status.HTTP_201_CREATED, response_model=AllocationRunPublic
)
def run_allocation(
    caller: Annotated[Caller, Depends(require(Permission.ALLOCATIONS_RUN))], session: SessionDep, platform: PlatformDep
) -> AllocationRunPublic:
    """Run auto-invest now over every listing not yet allocated (the worker runs it on its schedule)."""
    result = auto_invest.run_in(
        session, platform.database, platform.settings, trigger="admin", actor_user_id=caller.user_id
    )
    session.flush()
    return _run_public(auto_invest.explain(session, result.run_id, loan_id=None, limit=500))


@router.get(
    "/admin/allocations/{run_id}",
    tags=["admin"],
    response_model=AllocationRunPublic,
    responses={404: {"description": "Unknown run"}},
)
def explain_allocation(
    run_id: IdPath,
    _: Annotated[Caller, Depends(require(Permission.ALLOCATIONS_READ))],
    session: ReadSessionDep,
    loan_id: Annotated[int | None, Query(ge=1, le=MAX_ID, description="Only this listing's notes")] = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
) -> AllocationRunPublic:
    """One auto-invest run explained: its settings and seed, each round's listings, investors and notes, every
    note with the inputs that decided it (its place in the listing's queue, the idle-cash share and the draw
    that put it there, the listing's capacity and the budget), the fairness rule, and whether replaying the
    logged inputs through the reference allocator gives exactly the logged notes."""
    return _run_public(auto_invest.explain(session, run_id, loan_id=loan_id, limit=limit))
