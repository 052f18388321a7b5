"""Lending's request and response bodies: loan requests, listings, notes, schedules, the rate card,
auto-invest rules, portfolio plans and allocation runs."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal, get_args

from pydantic import BaseModel, BeforeValidator, Field, PlainSerializer, WithJsonSchema, field_validator

from api.identity.schemas import RiskPreference
from api.kit.clock import utcnow
from api.kit.money import MoneyError, format_rate, parse_rate_bps
from api.kit.schemas import Cents, MoneyIn, MoneyOrZeroIn, RateBps, RateIn, RequestModel
from api.lending.lifecycle import ALL_STATUSES
from api.lending.limits import PPM
from api.payments.schedule import installment_state

LoanStatus = Literal[
    "requested",
    "listed",
    "funded",
    "current",
    "grace",
    "late_16_30",
    "late_31_120",
    "charged_off",
    "repaid",
    "expired",
    "cancelled",
]
if get_args(LoanStatus) != ALL_STATUSES:  # the API's list is the machine's list (api/lending/lifecycle.py)
    raise RuntimeError("LoanStatus must list api.lending.lifecycle.LoanStatus in the same order")
#: A note's life: committed to a listing, then issued with the loan, or cancelled by its investor, or released
#: when the listing ended unfunded.
NoteStatus = Literal["committed", "issued", "cancelled", "released"]
Term = Literal[12, 24, 36, 48, 60]
Grade = Literal["A", "B", "C", "D", "E", "F", "G"]
SortKey = Literal[
    "newest",
    "rate",
    "-rate",
    "amount",
    "-amount",
    "funded_pct",
    "-funded_pct",
    "time_left",
    "-time_left",
    "grade",
    "-grade",
]
WebhookEvent = Literal["loan.funded", "loan.expired", "loan.cancelled"]


def _percent_bps(value: Any) -> int:
    if not isinstance(value, str):
        raise ValueError('send a percentage as a decimal string such as "2.50", not a JSON number')
    try:
        bps = parse_rate_bps(value, "percentage")
    except MoneyError as exc:
        raise ValueError(str(exc)) from None
    if not 0 <= bps <= 10_000:
        raise ValueError("a percentage must be between 0.00 and 100.00")
    return bps


PercentIn = Annotated[
    int,
    BeforeValidator(_percent_bps),
    PlainSerializer(format_rate, return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "pattern": r"^\d+\.\d{2}$", "examples": ["2.50"]}),
]
"""A percentage on a request ("2.50" = 2.50 %), as basis points once parsed."""


class LoanCreate(RequestModel):
    amount: MoneyIn = Field(description="Between 1000.00 and 40000.00, a multiple of 25.00")
    interest_rate: RateIn | None = Field(
        default=None,
        description="Annual percent, 1.00 to 36.00, at least the floor of the borrower's grade on the rate card "
        "(GET /loans/rate-card); omitted: the grade's base rate",
    )
    term_months: Term
    purpose: str = Field(min_length=3, max_length=200)
    credit_check_consent: bool = Field(
        description="Must be true: the borrower authorises one hard credit inquiry for this application (the text "
        "they accept is in GET /loans/rate-card, consent_text)"
    )
    accept_partial_funding: bool = Field(
        default=False,
        description="Take the loan at the funded amount if, when the listing ends, investors funded at least the "
        "threshold (70 % by default) but not all of it",
    )

    @field_validator("credit_check_consent")
    @classmethod
    def _consent_given(cls, value: bool) -> bool:
        if value is not True:
            raise ValueError("a loan application needs the borrower's consent to a credit check (send true)")
        return value


class LoanCancel(RequestModel):
    """Cancelling has no options: the idempotency fingerprint is the path alone."""


class LoanPublic(BaseModel):
    loan_id: int
    borrower_id: int
    amount: Cents = Field(description="The amount lent (what was asked for, or what a partial funding raised)")
    requested_amount: Cents
    interest_rate: RateBps
    apr: RateBps = Field(description="Annual percentage rate, Regulation Z actuarial method, fee included")
    term_months: int
    purpose: str
    status: LoanStatus
    grade: str
    probability_of_default: str = Field(description="Calibrated probability of default, 4 decimals")
    expected_loss: Cents = Field(description="Amount x probability of default x 90 % loss given default")
    score_reasons: list[str] = Field(default_factory=list)
    score_model_version: str
    rate_card_version: str | None
    origination_fee_rate: RateBps
    origination_fee: Cents
    disbursed_amount: Cents = Field(description="What the borrower receives: amount less the origination fee")
    funded_amount: Cents
    remaining_amount: Cents
    funded_pct: str = Field(description="Funded share of the amount, percent with two decimals")
    monthly_payment: Cents
    accepts_partial_funding: bool
    listed_at: datetime | None
    listing_expires_at: datetime | None
    seconds_left: int | None = Field(description="Until the listing ends; null once it is not listed")
    created_at: datetime
    funded_at: datetime | None
    disbursed_at: datetime | None

    @classmethod
    def from_row(cls, row: Any) -> LoanPublic:
        """From a loan (ORM object or a row of api.lending.repository.LISTING_COLUMNS). The values come from
        the database's own constraints, so they are not validated a second time (a page holds many)."""
        expires = _utc(row.listing_expires_at)
        left = None
        if row.status == "listed" and expires is not None:
            left = max(0, int((expires - utcnow()).total_seconds()))
        return cls.model_construct(
            loan_id=row.loan_id,
            borrower_id=row.borrower_id,
            amount=row.amount_cents,
            requested_amount=row.requested_amount_cents,
            interest_rate=row.interest_rate_bps,
            apr=row.apr_bps,
            term_months=row.term_months,
            purpose=row.purpose,
            status=row.status,
            grade=row.grade,
            probability_of_default=probability_text(row.probability_of_default_ppm),
            expected_loss=row.expected_loss_cents,
            score_reasons=json.loads(row.score_reasons or "[]"),
            score_model_version=row.score_model_version,
            rate_card_version=row.rate_card_version,
            origination_fee_rate=row.origination_fee_bps,
            origination_fee=row.origination_fee_cents,
            disbursed_amount=row.amount_cents - row.origination_fee_cents,
            funded_amount=row.funded_amount_cents,
            remaining_amount=row.amount_cents - row.funded_amount_cents,
            funded_pct=format_rate(row.funded_bps),
            monthly_payment=row.monthly_payment_cents,
            accepts_partial_funding=bool(row.accepts_partial_funding),
            listed_at=_utc(row.listed_at),
            listing_expires_at=expires,
            seconds_left=left,
            created_at=_utc(row.created_at) or row.created_at,
            funded_at=_utc(row.funded_at),
            disbursed_at=_utc(row.disbursed_at),
        )


class LoansPublic(BaseModel):
    items: list[LoanPublic]
    next_cursor: str | None


class InvestmentCreate(RequestModel):
    amount: MoneyIn


class InvestmentPublic(BaseModel):
    investment_id: int
    loan_id: int
    investor_id: int
    amount: Cents
    status: NoteStatus = "committed"
    loan_status: LoanStatus
    loan_funded_amount: Cents
    created_at: datetime


class CommitmentCancel(RequestModel):
    """Cancelling a commitment has no options: the idempotency fingerprint is the path alone."""


def probability_text(ppm: int) -> str:
    """Parts per million as a probability with four decimals, rounded half up ("0.0457")."""
    tenths_of_bps = (ppm * 10_000 + PPM // 2) // PPM
    return f"{tenths_of_bps // 10_000}.{tenths_of_bps % 10_000:04d}"


def _utc(moment: datetime | None) -> datetime | None:
    # Core rows from SQLite come back naive; every stored timestamp is UTC.
    if moment is not None and moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment


class InstallmentPublic(BaseModel):
    number: int
    due_date: date
    payment: Cents
    principal: Cents
    interest: Cents
    balance_after: Cents
    paid_principal: Cents
    paid_interest: Cents
    status: Literal["paid", "partial", "due"]

    @classmethod
    def from_row(cls, row: Any) -> InstallmentPublic:
        return cls(
            number=row.number,
            due_date=row.due_date,
            payment=row.payment_cents,
            principal=row.principal_cents,
            interest=row.interest_cents,
            balance_after=row.balance_after_cents,
            paid_principal=row.paid_principal_cents,
            paid_interest=row.paid_interest_cents,
            status=installment_state(
                row.principal_cents + row.interest_cents, row.paid_principal_cents + row.paid_interest_cents
            ),
        )


class SchedulePublic(BaseModel):
    loan_id: int
    status: LoanStatus
    outstanding_principal: Cents
    installments: list[InstallmentPublic]


class LoanEventPublic(BaseModel):
    event: str
    from_status: str | None
    to_status: str
    actor_type: str
    occurred_at: datetime


class GradeTermsPublic(BaseModel):
    grade: str
    base_rate: RateBps = Field(description="The grade's rate when none is asked for, and the lowest allowed")
    origination_fee_rate: RateBps
    probability_of_default_from: str
    probability_of_default_below: str | None


class RateCardPublic(BaseModel):
    version: str
    loss_given_default: RateBps
    max_apr: RateBps
    grades: list[GradeTermsPublic]
    consent_version: str
    consent_text: str


# --- auto-invest --------------------------------------------------------------------------------------------


class AutoInvestRules(RequestModel):
    """An investor's auto-invest rule. Unset criteria match everything."""

    enabled: bool = True
    grades: list[Grade] | None = Field(default=None, min_length=1, max_length=7)
    min_probability_of_default: PercentIn | None = Field(default=None, description='Percent, e.g. "2.00"')
    max_probability_of_default: PercentIn | None = None
    min_rate: RateIn | None = None
    max_rate: RateIn | None = None
    terms: list[Term] | None = Field(default=None, min_length=1, max_length=5)
    purposes: list[Annotated[str, Field(min_length=3, max_length=200)]] | None = Field(
        default=None, min_length=1, max_length=20
    )
    amount_per_note: MoneyIn = Field(description="A multiple of 25.00")
    max_per_loan: MoneyIn = Field(description="At least amount_per_note; at most the per-investor cap per loan")
    target_mix: dict[Grade, PercentIn] | None = Field(
        default=None, description='Target share of the portfolio per grade, summing to 100.00, e.g. {"A": "60.00"}'
    )
    cash_to_keep: MoneyOrZeroIn = Field(default=0, description="Cash auto-invest never spends")


class AutoInvestPublic(BaseModel):
    rule_id: int
    version: int
    enabled: bool
    grades: list[str] | None
    min_probability_of_default: RateBps | None
    max_probability_of_default: RateBps | None
    min_rate: RateBps | None
    max_rate: RateBps | None
    terms: list[int] | None
    purposes: list[str] | None
    amount_per_note: Cents
    max_per_loan: Cents
    target_mix: dict[str, RateBps] | None
    cash_to_keep: Cents
    created_at: datetime


class AllocationPublic(BaseModel):
    round: int
    loan_id: int
    investor_id: int
    rule_id: int
    rule_version: int
    investment_id: int | None
    amount: Cents
    queue_position: int = Field(description="1 = served first among the automated investors of the listing")
    idle_cash_share_ppm: int = Field(description="Idle cash / (idle cash + invested), parts per million")
    tiebreak: int
    listing_capacity: Cents
    listing_filled_after: Cents
    budget: Cents
    budget_spent: Cents


class AllocationRoundPublic(BaseModel):
    round: int
    listings: int
    investors: int
    notes: int
    amount: Cents


class AllocationRunPublic(BaseModel):
    run_id: int
    trigger: str
    seed: int
    started_at: datetime
    finished_at: datetime | None
    listings: int
    rules: int
    notes: int
    amount: Cents
    settings: dict[str, Any]
    fairness_rule: str
    rounds: list[AllocationRoundPublic]
    allocations: list[AllocationPublic]
    allocations_shown: int
    replayed_identically: bool = Field(
        description="The logged inputs, run through the pure reference allocator, give exactly the logged notes"
    )


# --- portfolio plans ----------------------------------------------------------------------------------------


class PortfolioPlanCreate(RequestModel):
    amount: MoneyIn = Field(description="What to invest, a multiple of 25.00")
    risk_preference: RiskPreference | None = Field(
        default=None, description="Default: the investor's profile setting, else balanced"
    )
    min_loans: int = Field(default=20, ge=1, le=400, description="At least this many different loans")


class PlanNotePublic(BaseModel):
    loan_id: int
    grade: str
    amount: Cents
    interest_rate: RateBps
    probability_of_default: str
    term_months: int
    expected_loss: Cents
    investment_id: int | None


class PortfolioPlanPublic(BaseModel):
    plan_id: int
    status: Literal["proposed", "placed"]
    amount: Cents
    risk_preference: str
    min_loans: int
    loans: int
    target_mix: dict[str, RateBps]
    mix: dict[str, RateBps] = Field(description="The plan's share of the amount per grade")
    max_per_loan: Cents
    expected_return: RateBps = Field(description="Annual: rate less expected loss spread over the term, weighted")
    expected_loss: Cents
    notes: list[PlanNotePublic]
    created_at: datetime
    expires_at: datetime
    placed_at: datetime | None


class PortfolioPlanPlace(RequestModel):
    """Placing has no options: the idempotency fingerprint is the path alone."""


# --- webhooks -----------------------------------------------------------------------------------------------


class WebhookSubscriptionCreate(RequestModel):
    url: str = Field(min_length=10, max_length=500, description="http(s) URL that receives POSTed events")
    events: list[WebhookEvent] = Field(min_length=1, max_length=3)


class WebhookSubscriptionPublic(BaseModel):
    subscription_id: int
    url: str
    events: list[str]
    created_at: datetime


class WebhookSubscriptionCreated(WebhookSubscriptionPublic):
    secret: str = Field(
        description="Shown once. Each delivery carries Peerlend-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of "
        "'<t>.<body>' with this secret>"
    )
