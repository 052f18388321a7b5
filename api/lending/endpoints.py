"""Lending over HTTP: loan requests, listings, notes, schedules, cancellation and expiry."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response, status
from pydantic import BaseModel

from api.authz import Permission
from api.deps import DatabaseDep, IdempotencyKey, PlatformDep, ReadSessionDep, SessionDep, SettingsDep, require
from api.idempotency.http import idempotent
from api.identity.caller import Caller
from api.kit.routing import TransactionalRoute
from api.kit.schemas import CursorQuery, LoanIdPath, RateIn, cursor_id
from api.lending import investing
from api.lending import listings as listings_service
from api.lending import service as loans_service
from api.lending.schemas import (
    InstallmentPublic,
    InvestmentCreate,
    InvestmentPublic,
    LoanCancel,
    LoanCreate,
    LoanPublic,
    LoansPublic,
    LoanStatus,
    SchedulePublic,
)
from api.payments.schedule import outstanding_principal

router = APIRouter(tags=["loans"], route_class=TransactionalRoute)

LoanCreator = Annotated[Caller, Depends(require(Permission.LOAN_CREATE))]
LoanLister = Annotated[Caller, Depends(require(Permission.LOAN_LIST))]
LoanReader = Annotated[Caller, Depends(require(Permission.LOAN_READ))]
ScheduleReader = Annotated[Caller, Depends(require(Permission.LOAN_SCHEDULE))]
Investor = Annotated[Caller, Depends(require(Permission.INVEST))]


def _create(payload: LoanCreate, caller: LoanCreator, session: SessionDep, settings: SettingsDep) -> LoanPublic:
    loan = loans_service.create_loan(
        session,
        settings,
        caller,
        amount_cents=payload.amount,
        rate_bps=payload.interest_rate,
        term_months=payload.term_months,
        purpose=payload.purpose,
    )
    return LoanPublic.from_row(loan)


router.add_api_route(
    "/loans/create",
    _create,
    methods=["POST"],
    status_code=status.HTTP_201_CREATED,
    response_model=LoanPublic,
    summary="Create a loan request (seed endpoint)",
    description="A borrower lists a loan request; it is graded by the credit-risk model and listed for investors.",
)
router.add_api_route(
    "/loans",
    _create,
    methods=["POST"],
    status_code=status.HTTP_201_CREATED,
    response_model=LoanPublic,
    summary="Create a loan request",
    operation_id="create_loan_rest",
)


def _list(
    caller: LoanLister,
    session: ReadSessionDep,
    status_filter: Annotated[LoanStatus | None, Query(alias="status")] = None,
    min_rate: Annotated[RateIn | None, Query(description="Lowest annual rate, e.g. 5.00")] = None,
    max_rate: Annotated[RateIn | None, Query(description="Highest annual rate, e.g. 12.00")] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: CursorQuery = None,
) -> Response:
    rows, next_cursor = loans_service.list_for(
        session,
        caller,
        status=status_filter,
        min_rate_bps=min_rate,
        max_rate_bps=max_rate,
        cursor=cursor_id(cursor),
        limit=limit,
    )
    page = LoansPublic(
        items=[LoanPublic.from_row(r) for r in rows], next_cursor=str(next_cursor) if next_cursor else None
    )
    # Already validated on the way in: rendered once here rather than validated again by FastAPI.
    return Response(page.model_dump_json(), media_type="application/json")


router.add_api_route(
    "/loans/list",
    _list,
    methods=["GET"],
    response_model=LoansPublic,
    summary="List loans (seed endpoint)",
    description="Newest first; borrowers see their own loans, investors every listing. Filter by status and rate.",
)
router.add_api_route("/loans", _list, methods=["GET"], response_model=LoansPublic, operation_id="list_loans_rest")


@router.get("/loans/{loan_id}", response_model=LoanPublic)
def get_loan(loan_id: LoanIdPath, caller: LoanReader, session: ReadSessionDep) -> LoanPublic:
    return LoanPublic.from_row(loans_service.visible_loan(session, caller, loan_id))


@router.get("/loans/{loan_id}/schedule", response_model=SchedulePublic)
def get_schedule(loan_id: LoanIdPath, caller: ScheduleReader, session: ReadSessionDep) -> SchedulePublic:
    """The amortization schedule, for the borrower and the loan's note holders."""
    loan, rows = loans_service.schedule_of(session, caller, loan_id)
    owed = (
        outstanding_principal((r.principal_cents, r.paid_principal_cents) for r in rows) if rows else loan.amount_cents
    )
    return SchedulePublic(
        loan_id=loan.loan_id,
        status=loan.status,
        outstanding_principal=owed,
        installments=[InstallmentPublic.from_row(r) for r in rows],
    )


@router.post(
    "/loans/{loan_id}/investments",
    status_code=status.HTTP_201_CREATED,
    response_model=InvestmentPublic,
    responses={
        404: {"description": "Unknown loan"},
        409: {"description": "Loan not open, amount exceeds what remains, or not enough cash"},
        422: {"description": "Amount not a positive multiple of 25.00, or Idempotency-Key reused"},
    },
)
def invest(
    loan_id: LoanIdPath,
    payload: InvestmentCreate,
    request: Request,
    caller: Investor,
    session: SessionDep,
    platform: PlatformDep,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """Buy a note in a listed loan, in multiples of 25.00. The investment that completes the loan
    funds it; it is then issued to the borrower, its schedule created and everyone notified."""

    def action(_processor_key: str) -> InvestmentPublic:
        done = investing.invest(
            session, platform.database, platform.processor, platform.settings, caller, loan_id, payload.amount
        )
        return InvestmentPublic(
            investment_id=done.investment_id,
            loan_id=done.loan_id,
            investor_id=done.investor_id,
            amount=done.amount_cents,
            loan_status=done.loan_status,
            loan_funded_amount=done.loan_funded_cents,
            created_at=done.created_at,
        )

    return idempotent(request, session, caller.user_id, idempotency_key, payload, action)


@router.post(
    "/loans/{loan_id}/cancel",
    response_model=LoanPublic,
    responses={404: {"description": "Unknown loan, or not yours"}, 409: {"description": "Loan is not listed"}},
)
def cancel_loan(
    loan_id: LoanIdPath,
    request: Request,
    caller: Annotated[Caller, Depends(require(Permission.LOAN_CANCEL))],
    session: SessionDep,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """Withdraw a listing that is not yet fully funded. Every investor's committed cash returns to
    their available cash and they are notified. Needs an Idempotency-Key: it moves investors' cash."""
    return idempotent(
        request,
        session,
        caller.user_id,
        idempotency_key,
        LoanCancel(),
        lambda _processor_key: LoanPublic.from_row(listings_service.cancel(session, caller, loan_id)),
        status_code=status.HTTP_200_OK,
    )


class ExpiredListings(BaseModel):
    expired_loan_ids: list[int]


@router.post("/admin/loans/expire", tags=["admin"], response_model=ExpiredListings)
def expire_listings(
    _: Annotated[Caller, Depends(require(Permission.LISTINGS_EXPIRE))], database: DatabaseDep, settings: SettingsDep
) -> ExpiredListings:
    """Expire every listing older than PEERLEND_LISTING_DAYS, returning committed cash to its
    investors (also `python -m api.cli expire-listings`, for a scheduler)."""
    return ExpiredListings(expired_loan_ids=listings_service.expire_stale(database, settings))
