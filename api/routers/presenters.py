"""Rows to response schemas, shared by the routers."""

from __future__ import annotations

import json
from decimal import Decimal

from api.db.tables import Installment, Investor, Loan, Notification, User, UserProfile
from api.domain.money import format_cents, format_rate
from api.schemas.loans import InstallmentPublic, LoanPublic
from api.schemas.money_movements import NotificationPublic
from api.schemas.profiles import MePublic, ProfilePublic
from api.schemas.users import UserPublic
from api.services.profiles import PROFILE_FIELDS, missing_for_borrowing


def loan_public(loan: Loan) -> LoanPublic:
    return LoanPublic(
        loan_id=loan.loan_id,
        borrower_id=loan.borrower_id,
        amount=format_cents(loan.amount_cents),
        interest_rate=format_rate(loan.interest_rate_bps),
        term_months=loan.term_months,
        purpose=loan.purpose,
        status=loan.status,
        grade=loan.grade,
        probability_of_default=str((Decimal(loan.probability_of_default_ppm) / 1_000_000).quantize(Decimal("0.0001"))),
        score_reasons=json.loads(loan.score_reasons or "[]"),
        funded_amount=format_cents(loan.funded_amount_cents),
        remaining_amount=format_cents(loan.amount_cents - loan.funded_amount_cents),
        monthly_payment=format_cents(loan.monthly_payment_cents),
        created_at=loan.created_at,
        funded_at=loan.funded_at,
        disbursed_at=loan.disbursed_at,
    )


def installment_public(row: Installment) -> InstallmentPublic:
    paid = row.paid_principal_cents + row.paid_interest_cents
    status = "paid" if paid == row.principal_cents + row.interest_cents else ("partial" if paid else "due")
    return InstallmentPublic(
        number=row.number,
        due_date=row.due_date,
        payment=format_cents(row.payment_cents),
        principal=format_cents(row.principal_cents),
        interest=format_cents(row.interest_cents),
        balance_after=format_cents(row.balance_after_cents),
        paid_principal=format_cents(row.paid_principal_cents),
        paid_interest=format_cents(row.paid_interest_cents),
        status=status,
    )


def user_public(user: User, investor_id: int | None = None) -> UserPublic:
    return UserPublic(
        user_id=user.user_id,
        username=user.username,
        email=user.email,
        role=user.role,
        email_verified=user.email_verified_at is not None,
        investor_id=investor_id,
        created_at=user.created_at,
    )


def notification_public(row: Notification) -> NotificationPublic:
    return NotificationPublic(
        notification_id=row.notification_id,
        kind=row.kind,
        loan_id=row.loan_id,
        message=row.message,
        created_at=row.created_at,
        read=row.read_at is not None,
    )


def me_public(user: User, investor: Investor | None, profile: UserProfile | None) -> MePublic:
    fields = {f: getattr(profile, f) for f in PROFILE_FIELDS} if profile is not None else {}
    income = fields.pop("annual_income_cents", None)
    missing = missing_for_borrowing(profile)
    return MePublic(
        user_id=user.user_id,
        username=user.username,
        email=user.email,
        role=user.role,
        email_verified=user.email_verified_at is not None,
        investor_id=investor.investor_id if investor else None,
        created_at=user.created_at,
        profile=ProfilePublic(
            **fields,
            annual_income=format_cents(income) if income is not None else None,
            complete_for_borrowing=not missing,
            missing_for_borrowing=[m.removesuffix("_cents") for m in missing],
        ),
    )
