"""Lending over HTTP: loan applications, the marketplace search, notes, schedules, lifecycle, the rate card,
cancellation and expiry."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response, status
from pydantic import BaseModel

from api.authz import Permission
from api.deps import ClientDep, IdempotencyKey, PlatformDep, ReadSessionDep, SessionDep, require
from api.idempotency.http import idempotent
from api.identity.caller import Caller
from api.integrations.bureau.base import CONSENT_TEXT, CONSENT_VERSION, Consent
from api.kit.clock import utcnow
from api.kit.errors import InvalidInput
from api.kit.routing import TransactionalRoute
from api.kit.schemas import MAX_ID, LoanIdPath, MoneyIn, RateIn
from api.lending import investing, pricing
from api.lending import listings as listings_service
from api.lending import repository as repo
from api.lending import service as loans_service
from api.lending.credit import credit_of
from api.lending.limits import TERMS_MONTHS
from api.lending.schemas import (
    Grade,
    GradeTermsPublic,
    InstallmentPublic,
    InvestmentCreate,
    InvestmentPublic,
    LoanCancel,
    LoanCreate,
    LoanEventPublic,
    LoanPublic,
    LoansPublic,
    LoanStatus,
    PercentIn,
    RateCardPublic,
    SchedulePublic,
    SortKey,
)
from api.payments.schedule import outstanding_principal
from models.grades import GRADE_PD_BOUNDS, GRADES

router = APIRouter(tags=["loans"], route_class=TransactionalRoute)

LoanCreator = Annotated[Caller, Depends(require(Permission.LOAN_CREATE))]
LoanLister = Annotated[Caller, Depends(require(Permission.LOAN_LIST))]
LoanReader = Annotated[Caller, Depends(require(Permission.LOAN_READ))]
ScheduleReader = Annotated[Caller, Depends(require(Permission.LOAN_SCHEDULE))]
Investor = Annotated[Caller, Depends(require(Permission.INVEST))]


def _create(
    payload: LoanCreate,
    request: Request,
    caller: LoanCreator,
    session: SessionDep,
    platform: PlatformDep,
    client: ClientDep,
) -> LoanPublic:
    bureau, scorer = credit_of(request)
    loan = loans_service.create_loan(
        session,
        platform.settings,
        caller,
        amount_cents=payload.amount,
        rate_bps=payload.interest_rate,
        term_months=payload.term_months,
        purpose=payload.purpose,
        consent=Consent(given_at=utcnow(), text_version=CONSENT_VERSION, ip=client.ip, user_agent=client.user_agent),
        accept_partial_funding=payload.accept_partial_funding,
        bureau=bureau,
        scorer=scorer,
    )
    return LoanPublic.from_row(loan)


_CREATE_ERRORS: dict[int | str, dict[str, Any]] = {
    403: {"description": "Not a verified borrower, or the profile is incomplete"},
    422: {
        "description": "Invalid amount, term or rate; no consent to the credit check; a rate below the floor of "
        "the borrower's grade (the message names the floor); an APR above 36 %"
    },
}
router.add_api_route(
    "/loans/create",
    _create,
    methods=["POST"],
    status_code=status.HTTP_201_CREATED,
    response_model=LoanPublic,
    responses=_CREATE_ERRORS,
    summary="Apply for a loan (seed endpoint)",
    description="With the borrower's consent, the credit bureau is pulled once; the pinned credit model grades the "
    "application; the rate card prices it (fee, APR, expected loss); it is listed for PEERLEND_LISTING_DAYS.",
)
router.add_api_route(
    "/loans",
    _create,
    methods=["POST"],
    status_code=status.HTTP_201_CREATED,
    response_model=LoanPublic,
    responses=_CREATE_ERRORS,
    summary="Apply for a loan",
    operation_id="create_loan_rest",
)

_SEARCH_PARAMS = frozenset(
    {
        "grade",
        "term",
        "purpose",
        "min_amount",
        "max_amount",
        "min_funded_pct",
        "min_hours_left",
        "max_hours_left",
    }
)
_KNOWN_PARAMS = _SEARCH_PARAMS | {"status", "min_rate", "max_rate", "sort", "limit", "cursor"}
_SEARCH_CURSOR = re.compile(r"^(-?[a-z_]{4,10}):([A-G]|[0-9]{1,20}):([0-9]{1,16})$")
CURSOR_PATTERN = r"^([0-9]{1,16}|-?[a-z_]{4,10}:([A-G]|[0-9]{1,20}):[0-9]{1,16})$"


def _list(
    request: Request,
    caller: LoanLister,
    session: ReadSessionDep,
    status_filter: Annotated[LoanStatus | None, Query(alias="status")] = None,
    min_rate: Annotated[RateIn | None, Query(description="Lowest annual rate, e.g. 5.00")] = None,
    max_rate: Annotated[RateIn | None, Query(description="Highest annual rate, e.g. 12.00")] = None,
    grade: Annotated[Grade | None, Query(description="Only this grade")] = None,
    # An int, checked against the terms below: a query string is text, which a Literal[12, ...] would refuse.
    term: Annotated[int | None, Query(ge=1, le=600, description="Only this term in months")] = None,
    purpose: Annotated[str | None, Query(min_length=3, max_length=200, description="Purpose, any case")] = None,
    min_amount: Annotated[MoneyIn | None, Query(description="Smallest amount, e.g. 1000.00")] = None,
    max_amount: Annotated[MoneyIn | None, Query(description="Largest amount")] = None,
    min_funded_pct: Annotated[PercentIn | None, Query(description="At least this funded, percent, e.g. 50.00")] = None,
    min_hours_left: Annotated[int | None, Query(ge=0, le=24 * 366, description="Listing ends in at least N h")] = None,
    max_hours_left: Annotated[int | None, Query(ge=0, le=24 * 366, description="Listing ends within N hours")] = None,
    sort: Annotated[
        SortKey, Query(description="rate, amount, funded_pct, time_left or grade; '-' first for descending")
    ] = "newest",
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[
        str | None, Query(max_length=64, pattern=CURSOR_PATTERN, description="next_cursor of the previous page")
    ] = None,
) -> Response:
    if term is not None and term not in TERMS_MONTHS:
        raise InvalidInput(f"term must be one of {', '.join(map(str, TERMS_MONTHS))}")
    unknown = sorted(set(request.query_params) - _KNOWN_PARAMS)
    if unknown:
        raise InvalidInput(
            f"unknown query parameter(s): {', '.join(unknown)}; filters are {', '.join(sorted(_KNOWN_PARAMS))}"
        )
    searching = (
        sort != "newest"
        or (cursor is not None and ":" in cursor)
        or any(name in request.query_params for name in _SEARCH_PARAMS)
    )
    if not searching:
        # The default page (newest first, status and rate filters) stays on its compiled fast path.
        before = int(cursor) if cursor is not None else None
        rows, next_id = loans_service.list_for(
            session,
            caller,
            status=status_filter,
            min_rate_bps=min_rate,
            max_rate_bps=max_rate,
            cursor=before if before is None or 0 < before <= MAX_ID else 0,
            limit=limit,
        )
        next_cursor = str(next_id) if next_id else None
    else:
        now = utcnow()
        timed = min_hours_left is not None or max_hours_left is not None or sort.lstrip("-") == "time_left"
        search = repo.Search(
            # The marketplace searches listings unless asked otherwise (time left exists only for listings).
            status=status_filter or "listed",
            grade=grade,
            min_rate_bps=min_rate,
            max_rate_bps=max_rate,
            term_months=term,
            purpose=purpose,
            min_amount_cents=min_amount,
            max_amount_cents=max_amount,
            min_funded_bps=min_funded_pct,
            expires_after=now + timedelta(hours=min_hours_left)
            if min_hours_left is not None
            else (now if timed else None),
            expires_before=now + timedelta(hours=max_hours_left) if max_hours_left is not None else None,
            sort=sort,
            **_cursor_fields(sort, cursor),
        )
        rows, last = loans_service.search_for(session, caller, search, limit)
        next_cursor = _next_cursor(sort, last) if last is not None else None
    page = LoansPublic(items=[LoanPublic.from_row(r) for r in rows], next_cursor=next_cursor)
    # Already validated on the way in: rendered once here rather than validated again by FastAPI.
    return Response(page.model_dump_json(), media_type="application/json")


def _cursor_fields(sort: str, cursor: str | None) -> dict[str, Any]:
    if cursor is None:
        return {}
    if ":" not in cursor:
        if sort != "newest":
            raise InvalidInput(f"this cursor belongs to sort=newest, not sort={sort}")
        return {"after_id": min(int(cursor), MAX_ID)}
    match = _SEARCH_CURSOR.fullmatch(cursor)
    if match is None or match.group(1) != sort:
        raise InvalidInput(f"this cursor does not belong to sort={sort}: pass the next_cursor of a sort={sort} page")
    raw, loan_id = match.group(2), min(int(match.group(3)), MAX_ID)
    name = sort.lstrip("-")
    if name == "grade":
        if raw not in GRADES:
            raise InvalidInput("this cursor's grade is not a grade")
        return {"after_key": raw, "after_id": loan_id}
    if not raw.isdigit():
        raise InvalidInput(f"this cursor does not belong to sort={sort}")
    value = int(raw)
    if name == "time_left":
        try:
            return {"after_key": datetime.fromtimestamp(value / 1_000_000, UTC), "after_id": loan_id}
        except (OverflowError, OSError, ValueError):
            raise InvalidInput("this cursor's time is out of range") from None
    return {"after_key": min(value, 2**62), "after_id": loan_id}


def _next_cursor(sort: str, row: Any) -> str:
    name = sort.lstrip("-")
    if name == "newest":
        return str(row.loan_id)
    value = getattr(row, repo.SORT_COLUMNS[name].name)
    if name == "time_left":
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
        value = int(moment.timestamp() * 1_000_000)
    return f"{sort}:{value}:{row.loan_id}"


_LIST_DESCRIPTION = (
    "Newest first by default: borrowers see their own loans, investors every loan, filtered by status and rate "
    "(the fast path). Any marketplace filter (grade, term, purpose, min_amount/max_amount, min_funded_pct, "
    "min_hours_left/max_hours_left) or sort (rate, amount, funded_pct, time_left, grade; '-rate' descending) "
    "searches listed loans unless `status` says otherwise. Pages continue with `cursor` = next_cursor (keyset on "
    "the sort key and the id). Unknown parameters, sorts or cursors from another sort are refused with 422."
)
_LIST_ERRORS: dict[int | str, dict[str, Any]] = {422: {"description": "Unknown filter or sort, or a bad value"}}
router.add_api_route(
    "/loans/list",
    _list,
    methods=["GET"],
    response_model=LoansPublic,
    responses=_LIST_ERRORS,
    summary="Search loans and listings (seed endpoint)",
    description=_LIST_DESCRIPTION,
)
router.add_api_route(
    "/loans",
    _list,
    methods=["GET"],
    response_model=LoansPublic,
    responses=_LIST_ERRORS,
    description=_LIST_DESCRIPTION,
    operation_id="list_loans_rest",
)


@router.get("/loans/rate-card", response_model=RateCardPublic)
def rate_card(_: LoanLister) -> RateCardPublic:
    """The current rate card: per grade the base rate (also the floor a borrower of the grade may ask for), the
    origination fee and the probability-of-default band that defines the grade; the loss given default behind
    every listing's expected loss; and the credit-check consent a loan application gives."""
    card = pricing.current_card()
    return RateCardPublic(
        version=card.version,
        loss_given_default=pricing.LGD_BPS,
        max_apr=pricing.MAX_APR_BPS,
        grades=[
            GradeTermsPublic(
                grade=g,
                base_rate=card.terms(g).base_rate_bps,
                origination_fee_rate=card.terms(g).origination_fee_bps,
                probability_of_default_from=f"{GRADE_PD_BOUNDS[g][0]:.4f}",
                probability_of_default_below=None if g == GRADES[-1] else f"{GRADE_PD_BOUNDS[g][1]:.4f}",
            )
            for g in GRADES
        ],
        consent_version=CONSENT_VERSION,
        consent_text=CONSENT_TEXT,
    )


@router.get("/loans/{loan_id}", response_model=LoanPublic, responses={404: {"description": "Unknown loan"}})
def get_loan(loan_id: LoanIdPath, caller: LoanReader, session: ReadSessionDep) -> LoanPublic:
    return LoanPublic.from_row(loans_service.visible_loan(session, caller, loan_id))


@router.get(
    "/loans/{loan_id}/events", response_model=list[LoanEventPublic], responses={404: {"description": "Unknown loan"}}
)
def loan_events(loan_id: LoanIdPath, caller: LoanReader, session: ReadSessionDep) -> list[LoanEventPublic]:
    """The loan's lifecycle transitions, oldest first: each with its time and the kind of actor."""
    return [
        LoanEventPublic(
            event=e.event,
            from_status=e.from_status,
            to_status=e.to_status,
            actor_type=e.actor_type,
            occurred_at=e.occurred_at,
        )
        for e in loans_service.events_of(session, caller, loan_id)
    ]


@router.get("/loans/{loan_id}/schedule", response_model=SchedulePublic, responses={404: {"description": "Unknown"}})
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
        409: {
            "description": "Loan not open, amount exceeds what remains, the per-investor cap for the loan, or not "
            "enough cash"
        },
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
    """Buy a note in a listed loan, in multiples of 25.00 and up to PEERLEND_MAX_INVESTMENT_PER_LOAN_CENTS per
    investor and loan. The cash is reserved now and settled when the loan is issued. The investment that
    completes the loan funds it; it is then issued to the borrower, its schedule created and everyone notified."""

    def action(_processor_key: str) -> InvestmentPublic:
        done = investing.invest(session, platform.database, platform.settings, caller, loan_id, payload.amount)
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
    funded_partially_loan_ids: list[int]


@router.post("/admin/loans/expire", tags=["admin"], response_model=ExpiredListings)
def expire_listings(
    _: Annotated[Caller, Depends(require(Permission.LISTINGS_EXPIRE))], platform: PlatformDep
) -> ExpiredListings:
    """End every listing whose time is up now (the worker does this on its schedule): funded to at least the
    threshold with partial funding accepted, it is issued at the funded amount; otherwise it expires and every
    commitment is released."""
    report = listings_service.expire_due(platform.database, platform.settings)
    return ExpiredListings(expired_loan_ids=report.expired, funded_partially_loan_ids=report.funded_partially)
