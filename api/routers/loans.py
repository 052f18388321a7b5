from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, status
from fastapi.responses import JSONResponse

from api.authz import Permission
from api.db.tables import User
from api.deps import IdempotencyKey, ProcessorDep, SessionDep, SettingsDep, require
from api.domain.money import format_cents, parse_cents, parse_rate_bps
from api.routers.idempotent import idempotent
from api.routers.presenters import installment_public, loan_public
from api.schemas.common import CursorQuery, LoanIdPath, RateIn
from api.schemas.loans import LoanCancel, LoanCreate, LoanPublic, LoansPublic, LoanStatus, SchedulePublic
from api.schemas.money_movements import InvestmentCreate, InvestmentPublic
from api.services import investments as investments_service
from api.services import listings as listings_service
from api.services import loans as loans_service

router = APIRouter(tags=["loans"])

LoanCreator = Annotated[User, Depends(require(Permission.LOAN_CREATE))]
LoanLister = Annotated[User, Depends(require(Permission.LOAN_LIST))]
LoanReader = Annotated[User, Depends(require(Permission.LOAN_READ))]
ScheduleReader = Annotated[User, Depends(require(Permission.LOAN_SCHEDULE))]
Investor = Annotated[User, Depends(require(Permission.INVEST))]


def _create(payload: LoanCreate, user: LoanCreator, session: SessionDep, settings: SettingsDep) -> LoanPublic:
    loan = loans_service.create_loan(
        session,
        settings,
        user,
        amount_cents=parse_cents(payload.amount),
        rate_bps=parse_rate_bps(payload.interest_rate),
        term_months=payload.term_months,
        purpose=payload.purpose,
    )
    return loan_public(loan)


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
    user: LoanLister,
    session: SessionDep,
    status_filter: Annotated[LoanStatus | None, Query(alias="status")] = None,
    min_rate: Annotated[RateIn | None, Query(description="Lowest annual rate, e.g. 5.00")] = None,
    max_rate: Annotated[RateIn | None, Query(description="Highest annual rate, e.g. 12.00")] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: CursorQuery = None,
) -> LoansPublic:
    before = int(cursor) if cursor is not None else None
    rows, next_cursor = loans_service.list_for(
        session,
        user,
        status=status_filter,
        min_rate_bps=parse_rate_bps(min_rate) if min_rate is not None else None,
        max_rate_bps=parse_rate_bps(max_rate) if max_rate is not None else None,
        cursor=before,
        limit=limit,
    )
    return LoansPublic(items=[loan_public(r) for r in rows], next_cursor=str(next_cursor) if next_cursor else None)


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
def get_loan(loan_id: LoanIdPath, user: LoanReader, session: SessionDep) -> LoanPublic:
    return loan_public(loans_service.visible_loan(session, user, loan_id))


@router.get("/loans/{loan_id}/schedule", response_model=SchedulePublic)
def get_schedule(loan_id: LoanIdPath, user: ScheduleReader, session: SessionDep) -> SchedulePublic:
    """The amortization schedule, for the borrower and the loan's note holders."""
    loan, rows = loans_service.schedule_of(session, user, loan_id)
    outstanding = sum(r.principal_cents - r.paid_principal_cents for r in rows) if rows else loan.amount_cents
    return SchedulePublic(
        loan_id=loan.loan_id,
        status=loan.status,
        outstanding_principal=format_cents(outstanding),
        installments=[installment_public(r) for r in rows],
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
    user: Investor,
    session: SessionDep,
    settings: SettingsDep,
    processor: ProcessorDep,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Buy a note in a listed loan, in multiples of 25.00. The investment that completes the loan
    funds it, disburses it to the borrower, creates its schedule and notifies everyone."""

    def action(_processor_key: str) -> InvestmentPublic:
        investment, loan = investments_service.invest(
            session, settings, processor, user, loan_id, parse_cents(payload.amount)
        )
        return InvestmentPublic(
            investment_id=investment.investment_id,
            loan_id=loan.loan_id,
            investor_id=investment.investor_id,
            amount=format_cents(investment.amount_cents),
            loan_status=loan.status,
            loan_funded_amount=format_cents(loan.funded_amount_cents),
            created_at=investment.created_at,
        )

    return idempotent(request, session, user, idempotency_key, payload, action)


@router.post(
    "/loans/{loan_id}/cancel",
    response_model=LoanPublic,
    responses={404: {"description": "Unknown loan, or not yours"}, 409: {"description": "Loan is not listed"}},
)
def cancel_loan(
    loan_id: LoanIdPath,
    request: Request,
    user: Annotated[User, Depends(require(Permission.LOAN_CANCEL))],
    session: SessionDep,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Withdraw a listing that is not yet fully funded. Every investor's committed cash returns to
    their available cash and they are notified. Needs an Idempotency-Key: it moves investors' cash."""
    return idempotent(
        request,
        session,
        user,
        idempotency_key,
        LoanCancel(),
        lambda _processor_key: loan_public(listings_service.cancel(session, user, loan_id)),
        status_code=status.HTTP_200_OK,
    )
